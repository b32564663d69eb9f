"""The order of work in a run: every cell once per pass, each pass shuffled."""

import pytest

from bench.plan import matrix
from bench.results.records import RepeatRecord
from bench.run import cells as run_cells
from bench.run import options as run_options
from bench.run import sweeps as run_sweeps

CELLS = [
    matrix.Cell("json", "json", server, style, "none", 32)
    for server in ("gunicorn-gthread", "uvicorn", "gunicorn-sync")
    for style in ("sync", "async")
]


def options(repeats: int, sweep_repeats: int = 3) -> run_options.RunOptions:
    return run_options.RunOptions(repeats=repeats, sweep_repeats=sweep_repeats)


def test_each_pass_holds_every_cell_once():
    passes = run_cells.shuffled_passes(CELLS, options(5), seed=7)
    assert len(passes) == 5
    for order in passes:
        assert sorted(order, key=lambda c: c.id) == sorted(CELLS, key=lambda c: c.id)


def test_the_seed_replays_the_order_and_passes_differ():
    first = run_cells.shuffled_passes(CELLS, options(4), seed=7)
    again = run_cells.shuffled_passes(CELLS, options(4), seed=7)
    assert first == again
    assert len({tuple(c.id for c in order) for order in first}) > 1
    assert run_cells.shuffled_passes(CELLS, options(4), seed=8) != first


def test_open_loop_cells_take_the_sweep_repeats():
    swept = [matrix.Cell("io", "io50", "uvicorn", "async", "none", 100, rate=r) for r in (50, 100)]
    passes = run_cells.shuffled_passes(CELLS + swept, options(repeats=4, sweep_repeats=2), seed=1)
    assert [sum(cell.rate > 0 for cell in order) for order in passes] == [2, 2, 0, 0]
    assert all(len([c for c in order if not c.rate]) == len(CELLS) for order in passes)
    longer = run_cells.shuffled_passes(swept, options(repeats=1, sweep_repeats=3), seed=1)
    assert [len(order) for order in longer] == [2, 2, 2]


def test_one_ceiling_per_user_count_and_connection_mode():
    cells = [
        matrix.Cell("json", "json", "gunicorn-sync", "sync", "none", 32),
        matrix.Cell("json", "json", "uvicorn", "async", "none", 32),
        matrix.Cell("io", "io50", "uvicorn", "async", "none", 200),
        matrix.Cell("io", "io50", "gunicorn-gthread", "sync", "none", 200),
    ]
    modes = run_cells.connection_modes(cells, run_options.RunOptions())
    assert modes == [(32, False), (32, True), (200, True)]  # gunicorn's sync worker closes


def fake_record(rate: int, knee: int) -> RepeatRecord:
    """An open-loop repeat of a server that meets a 100 ms p99 up to ``knee``."""
    return RepeatRecord.from_json(
        {
            "status": "ok",
            "latency_ms": {"p99": 40.0 if rate <= knee else 900.0, "count": 2000},
            "open_loop": {"sustainable": rate <= knee},
            "loadgen": {"bound": False},
        }
    )


@pytest.mark.parametrize("closed_passes", [3, 9])
def test_the_sweeps_search_at_their_slots_and_every_cell_has_one_record_per_pass(closed_passes):
    """Open-loop sweeps search in --sweep-repeats passes (3), however many
    passes the closed-loop cells take (--repeats)."""
    from bench.analyse import sustained
    from bench.load import schedule
    from bench.results import store as results

    swept = [
        matrix.Cell("io", "io50", server, "sync", "none", schedule.pool_size(rate), rate=rate)
        for server in ("uvicorn", "gunicorn-gthread")
        for rate in (400, 50, 200, 100, 800)
    ]
    knees = {"uvicorn": 610, "gunicorn-gthread": 77}
    sweeps = run_sweeps.Sweeps.of(CELLS + swept, slo_ms=100)
    repeats: dict[str, list] = {}
    measured_per_pass = []
    passes = run_cells.shuffled_passes(CELLS + swept, options(closed_passes, 3), 11)
    assert len(passes) == closed_passes
    for index, order in enumerate(passes, 1):
        sweeps.begin_pass(order)
        if index > 3:
            assert not sweeps.current
            assert all(not cell.rate for cell in sweeps.slots(order))
            assert not list(sweeps.untried(repeats))
            continue
        measured = []
        for cell in sweeps.slots(order):
            if cell.rate:
                record = fake_record(cell.rate, knees[cell.server])
                record.repeat = index
                sweeps.record(cell, record)
                repeats.setdefault(cell.id, []).append(record)
                measured.append(cell)
        measured_per_pass.append(measured)
        brackets = {found["sweep"].split(".")[2]: found for found in sweeps.end_pass()}
        for server, knee in knees.items():
            low, high = brackets[server]["lower"], brackets[server]["upper"]
            assert low <= knee < high <= low * 1.05 + 1
        for cell, record in sweeps.untried(repeats):
            repeats.setdefault(cell.id, []).append(record)
    # the first pass walks the grid and bisects; later ones check their hint's ends
    assert all(len([c for c in p if c.server == "uvicorn"]) == 2 for p in measured_per_pass[1:])
    assert len(measured_per_pass[0]) <= 2 * (3 + 4)
    # a pool follows its rate; every open-loop cell holds one record per pass
    for cell_id, records in repeats.items():
        assert sorted(r.repeat for r in records) == [1, 2, 3], cell_id
    cells = [
        {"cell": sweeps.known[cell_id].to_dict(), "repeats": [r.to_json() for r in records]}
        for cell_id, records in repeats.items()
    ]
    assert all(c["cell"]["users"] == schedule.pool_size(c["cell"]["rate"]) for c in cells)
    rows = {r.server: r for r in sustained.sustained_rates(cells, slo_ms=100)}
    assert rows["uvicorn"].per_pass == [rows["uvicorn"].per_pass[0]] * 3
    assert 610 / 1.05 - 1 <= rows["uvicorn"].per_pass[0] <= 610
    skipped = [r for r in repeats["io.io50.uvicorn.sync.none.r50"] if r.status == "skipped"]
    assert skipped and "not measured in pass" in skipped[0].reason
    assert results.status_of([skipped[0].status] * 2, 2) == "skipped"


def test_run_json_is_written_in_the_shape_of_the_committed_runs(tmp_path):
    """run.json as a run writes it, key for key in order, against a committed run
    of the same kind (no site, no upstream, a search)."""
    import json

    from bench import ROOT
    from bench.measure.settings import Interrupt, Settings
    from bench.run import document
    from bench.serve import servers

    committed = json.loads((ROOT / "docs/runs/20261202T072517Z-bench/run.json").read_text())
    opts = options(2)
    chosen, expansion = run_cells.plan_cells(opts)
    settings = Settings(
        warmup=1, duration=1, server_cpus=None, loadgen_cpus=None,
        options=servers.ServerOptions(), base_env={},
    )  # fmt: skip
    doc = document.start_document(
        tmp_path, opts, expansion, chosen, settings, db_info={}, fd_limit=None, planned=3
    )
    document.set_order(doc, 7, run_cells.shuffled_passes(expansion.cells, opts, 7))
    doc.harness = {"pid": 1}
    doc.searches = [[{"sweep": "x"}]]
    document.finish(doc, Interrupt())
    made = doc.to_json()
    assert list(made) == list(committed)
    # keys added since that run, at the end: the stopping rule's options, the
    # blocks a pass keeps together and the verdicts' pairs
    added = {"options": ["target_interval_pct", "budget_s"], "order": ["blocks", "pairs"]}
    for part in ("options", "matrix", "progress", "hosts", "order"):
        assert list(made[part]) == list(committed[part]) + added.get(part, []), part
    assert list(made["matrix"]["cells"][0]) == list(committed["matrix"]["cells"][0])
    assert made["status"] == "complete" and made["progress"]["planned"] == 3


def test_each_repeat_rewrites_its_cell_and_counts_in_run_json(tmp_path):
    """A repeat's record lands in its cell's file the moment it ends, sorted by
    repeat, and run.json's progress counts it."""
    import json

    from bench.results.records import Hosts, Progress, RunDocument
    from bench.run import document

    cell = CELLS[0]
    doc = RunDocument(
        progress=Progress(planned=2), hosts=Hosts(loadgen=["here"]), json_keys=("progress", "hosts")
    )
    (tmp_path / "cells").mkdir()
    files = document.RunFiles(tmp_path, doc, [cell], options(2))
    second = fake_record(1, 10)
    second.repeat, second.locust_workers = 2, ["there_1", "there_2"]
    files.store(cell, second)
    first = RepeatRecord.failed("boom", started_at=None, raw_dir=None)
    first.repeat = 1
    files.store(cell, first)
    written = json.loads((tmp_path / "cells" / f"{cell.id}.json").read_text())
    assert [r["repeat"] for r in written["repeats"]] == [1, 2]
    assert written["status"] == "partial" and written["planned_repeats"] == 2
    assert written["cell"] == cell.to_dict()
    state = json.loads((tmp_path / "run.json").read_text())
    assert state == {
        "progress": {"planned": 2, "done": 1, "failed": 1, "skipped": 0},
        "hosts": {"server": None, "target": None, "loadgen": ["here", "there"]},
    }


def test_a_repeat_is_one_console_line():
    from bench.results.records import RepeatRecord
    from bench.run.describe import describe_repeat

    failed = RepeatRecord.failed("primer answered 500\nlog tail", started_at=None, raw_dir=None)
    assert describe_repeat(failed) == "FAILED: primer answered 500"
    record = RepeatRecord.from_json(
        {
            "status": "ok",
            "throughput_rps": 1234.4,
            "error_rate": 0.0,
            "latency_ms": {"p99": 12.34},
            "server": {"cpu_ms_per_request": 0.5},
            "loadgen": {"bound": True, "bound_reasons": ["locust at 99%"]},
            "db": {"connections_peak": 4},
        }
    )
    assert describe_repeat(record) == (
        "1,234 req/s, p99 12.3 ms, CPU 0.500 ms/req, db connections peak 4"
        "  [LOADGEN-BOUND: locust at 99%]"
    )


def test_a_block_s_cells_run_back_to_back_in_either_order():
    from bench.analyse import pairs

    interfaces = {"gunicorn-gthread": "wsgi", "gunicorn-sync": "wsgi", "uvicorn": "asgi"}
    blocks = pairs.blocks(CELLS, pairs.compared_pairs(CELLS, interfaces))
    block = next(b for b in blocks if len(b) > 1)
    ids = {c.id for c in block}
    orders = set()
    for order in run_cells.shuffled_passes(CELLS, options(40), seed=3, blocks=blocks):
        assert sorted(c.id for c in order) == sorted(c.id for c in CELLS)
        at = [i for i, c in enumerate(order) if c.id in ids]
        assert at == list(range(at[0], at[0] + len(block)))  # adjacent
        orders.add(tuple(order[i].id for i in at))
    assert len(orders) == 6  # every order of the three, over 40 passes


def closed_record(number: int, throughput: float) -> RepeatRecord:
    return RepeatRecord.from_json({
        "status": "ok", "repeat": number, "error_rate": 0.0, "throughput_rps": throughput,
        "latency_ms": {"p99": 10.0, "count": 50}, "server": {"cpu_ms_per_request": 5.0},
        "elapsed_s": 8.0,
    })  # fmt: skip


def test_the_rule_adds_passes_only_to_a_block_wider_than_its_target():
    from bench.run import stopping

    a, b, c, d = CELLS[:4]
    # a/b drift together (+-20%) with a steady ratio: narrow; c/d do not
    steady = {a.id: [100, 120, 80, 110], b.id: [200, 241, 160, 219]}
    noisy = {c.id: [100, 120, 80, 110], d.id: [100, 180, 60, 150]}
    repeats = {
        cell_id: [closed_record(i, t) for i, t in enumerate(values, start=1)]
        for cell_id, values in {**steady, **noisy}.items()
    }
    found = stopping.widths([(a, b), (c, d)], repeats)
    assert found[0].pairs == 4 and found[0].widest < 0.02
    assert found[1].widest > 0.2
    assert found[0].widths["p99"] is None  # 50 samples back no p99
    rule = stopping.Stopping(target=0.05, budget_s=600)
    assert rule.unmet_blocks([[a, b], [c, d]], found) == [[c, d]]
    assert rule.affordable(2, 8.0) and not rule.affordable(100, 8.0)
    assert [rule.batch(n) for n in (5, 10, 20)] == [5, 10, 20]  # each look doubles the pairs
    written = stopping.record(rule, 4, found).to_json()
    assert [v["met"] for v in written["verdicts"]] == [True, False]
    assert written["verdicts"][1]["half_width_pct"]["throughput"] > 20


def test_the_rule_never_looks_at_the_ratio_only_at_the_width():
    """Two pairs of the same spread, one at x1.0 and one at x2.0: the same width."""
    from bench.run import stopping

    a, b, c, d = CELLS[:4]
    values = [100.0, 120.0, 80.0, 110.0]
    noise = [1.0, 1.1, 0.95, 1.02]
    moved = [v * n for v, n in zip(values, noise, strict=True)]
    repeats = {
        a.id: [closed_record(i, v) for i, v in enumerate(values, 1)],
        b.id: [closed_record(i, v) for i, v in enumerate(moved, 1)],
        c.id: [closed_record(i, v) for i, v in enumerate(values, 1)],
        d.id: [closed_record(i, 2 * v) for i, v in enumerate(moved, 1)],
    }
    same, double = stopping.widths([(a, b), (c, d)], repeats)
    assert same.widths["throughput"] == pytest.approx(double.widths["throughput"])


def test_a_repeat_the_rule_added_is_planned_so_the_cell_stays_ok(tmp_path):
    import json

    from bench.results.records import Progress, RunDocument
    from bench.run import document

    cell = CELLS[0]
    doc = RunDocument(progress=Progress(planned=1), json_keys=("progress",))
    (tmp_path / "cells").mkdir()
    files = document.RunFiles(tmp_path, doc, [cell], options(1))
    files.store(cell, closed_record(1, 100.0))
    files.plan_extra_pass([cell])
    files.store(cell, closed_record(2, 110.0))
    written = json.loads((tmp_path / "cells" / f"{cell.id}.json").read_text())
    assert written["status"] == "ok" and written["planned_repeats"] == 2
    assert json.loads((tmp_path / "run.json").read_text())["progress"]["planned"] == 2
