"""The order of work in a run: every cell once per pass, each pass shuffled."""

from bench import matrix, run

CELLS = [
    matrix.Cell("json", "json", server, style, "none", 32)
    for server in ("gunicorn-gthread", "uvicorn", "gunicorn-sync")
    for style in ("sync", "async")
]


def options(repeats: int, sweep_repeats: int = 3) -> run.RunOptions:
    return run.RunOptions(repeats=repeats, sweep_repeats=sweep_repeats)


def test_each_pass_holds_every_cell_once():
    passes = run.shuffled_passes(CELLS, options(5), seed=7)
    assert len(passes) == 5
    for order in passes:
        assert sorted(order, key=lambda c: c.id) == sorted(CELLS, key=lambda c: c.id)


def test_the_seed_replays_the_order_and_passes_differ():
    first = run.shuffled_passes(CELLS, options(4), seed=7)
    again = run.shuffled_passes(CELLS, options(4), seed=7)
    assert first == again
    assert len({tuple(c.id for c in order) for order in first}) > 1
    assert run.shuffled_passes(CELLS, options(4), seed=8) != first


def test_open_loop_cells_take_the_sweep_repeats():
    swept = [matrix.Cell("io", "io50", "uvicorn", "async", "none", 100, rate=r) for r in (50, 100)]
    passes = run.shuffled_passes(CELLS + swept, options(repeats=4, sweep_repeats=2), seed=1)
    assert [sum(cell.rate > 0 for cell in order) for order in passes] == [2, 2, 0, 0]
    assert all(len([c for c in order if not c.rate]) == len(CELLS) for order in passes)
    longer = run.shuffled_passes(swept, options(repeats=1, sweep_repeats=3), seed=1)
    assert [len(order) for order in longer] == [2, 2, 2]


def test_one_ceiling_per_user_count_and_connection_mode():
    cells = [
        matrix.Cell("json", "json", "gunicorn-sync", "sync", "none", 32),
        matrix.Cell("json", "json", "uvicorn", "async", "none", 32),
        matrix.Cell("io", "io50", "uvicorn", "async", "none", 200),
        matrix.Cell("io", "io50", "gunicorn-gthread", "sync", "none", 200),
    ]
    modes = run.connection_modes(cells, run.RunOptions())
    assert modes == [(32, False), (32, True), (200, True)]  # gunicorn's sync worker closes


def test_a_sweep_meets_its_rates_in_rising_order_in_every_shuffled_pass():
    swept = [
        matrix.Cell("io", "io50", server, "sync", "none", 50, rate=rate)
        for server in ("uvicorn", "gunicorn-gthread")
        for rate in (400, 50, 200, 100)
    ]
    for order in run.shuffled_passes(CELLS + swept, options(3, 3), seed=11):
        for server in ("uvicorn", "gunicorn-gthread"):
            rates = [c.rate for c in order if c.rate and c.server == server]
            assert rates == [50, 100, 200, 400]
        assert len(order) == len(CELLS) + len(swept)


def test_a_cell_whose_repeats_were_all_skipped_is_skipped_not_failed():
    from bench import results

    skipped = run.skipped_repeat(100)
    assert skipped["status"] == "skipped" and "100/s" in skipped["reason"]
    assert results.cell_status([skipped, skipped], 2) == "skipped"
    ok = {"status": "ok"}
    assert results.cell_status([ok, skipped], 2) == "ok"
    assert results.cell_status([ok, {"status": "failed"}], 2) == "partial"
