"""The open-loop headline from the searches' repeats, against hand-made cells."""

import pytest

from bench.analyse import sustained

INTERFACES = {"uvicorn": "asgi", "gunicorn-gthread": "wsgi"}


def repeat(
    index: int, p99: float | None, sustainable: bool = True, count: int = 5000, bound=False
) -> dict:
    return {
        "status": "ok",
        "repeat": index,
        "latency_ms": {"p99": p99, "count": count, "max": (p99 or 1e4) * 1.5},
        "open_loop": {"sustainable": sustainable},
        "loadgen": {"bound": bound},
    }


def skipped(index: int) -> dict:
    return {"status": "skipped", "repeat": index}


def cell(server: str, style: str, rate: int, repeats: list[dict]) -> dict:
    identity = {
        "scenario": "io",
        "endpoint": "io50",
        "server": server,
        "style": style,
        "stack": "none",
        "db_mode": "",
        "users": rate // 2,
        "rate": rate,
    }
    return {"cell": identity, "repeats": repeats}


def test_each_pass_scores_the_lower_end_of_its_bracket_with_its_resolution():
    cells = [
        # pass 1 bracketed [200, 400) and bisected to [283, 297); pass 2 [200, 210)
        cell("uvicorn", "async", 200, [repeat(1, 60), repeat(2, 70)]),
        cell("uvicorn", "async", 400, [repeat(1, 500), skipped(2)]),
        cell("uvicorn", "async", 283, [repeat(1, 80), skipped(2)]),
        cell("uvicorn", "async", 297, [repeat(1, 120), skipped(2)]),
        cell("uvicorn", "async", 210, [skipped(1), repeat(2, 90, sustainable=False)]),
    ]
    (row,) = sustained.sustained_rates(cells, slo_ms=100)
    assert row.per_pass == [283.0, 200.0]
    assert row.resolution == pytest.approx(0.05)  # 210 / 200 - 1, the coarser pass
    assert row.passes[0].upper == 297
    text = sustained.describe_rate(row)
    assert text.startswith("283 req/s (passes: 283, 200; each pass's knee within +5.0%")


def test_a_pass_that_met_the_top_rate_is_a_lower_bound_and_claims_no_resolution():
    """Seen in make bench: two passes met the grid's top (800/s), one bracketed its
    knee at 383. The capped passes are lower bounds and say so; the resolution
    is the bracketed pass's only; the verdict is bounded."""
    cells = [
        cell("uvicorn", "async", 400, [repeat(1, 60), repeat(2, 60), repeat(3, 120)]),
        cell("uvicorn", "async", 800, [repeat(1, 80), repeat(2, 90), skipped(3)]),
        cell("uvicorn", "async", 383, [skipped(1), skipped(2), repeat(3, 90)]),
        cell("gunicorn-gthread", "sync", 400, [repeat(n, 500) for n in (1, 2, 3)]),
        cell("gunicorn-gthread", "sync", 200, [repeat(n, 50) for n in (1, 2, 3)]),
    ]
    rows = {row.server: row for row in sustained.sustained_rates(cells, slo_ms=100)}
    row = rows["uvicorn"]
    assert row.per_pass == [800.0, 800.0, 383.0] and row.capped_passes == 2
    text = sustained.describe_rate(row)
    assert text.startswith("800 req/s (passes: >= 800, >= 800, 383; each bracketed pass's")
    assert "2 of 3 passes met the top rate swept, so their figures are lower bounds" in text
    (verdict,) = sustained.headline_verdicts(list(rows.values()), INTERFACES)
    assert verdict.bounded


def test_a_load_generator_bound_repeat_is_never_sustained_and_ends_the_search():
    cells = [
        cell("uvicorn", "async", 400, [repeat(1, 50)]),
        # under the objective, but the load generator could not offer the rate
        cell("uvicorn", "async", 800, [repeat(1, 50, bound=True)]),
    ]
    (row,) = sustained.sustained_rates(cells, slo_ms=100)
    assert row.per_pass == [400.0] and not row.at_least_top
    assert row.ended == ["load generator bound at 800/s"]
    assert "a search ended: load generator bound at 800/s" in sustained.describe_rate(row)


def test_a_p99_not_backed_or_beyond_the_answers_never_counts_as_met():
    few = [cell("uvicorn", "async", 10, [repeat(1, 50, count=300)])]
    assert sustained.sustained_rates(few, slo_ms=100)[0].per_pass == [0.0]
    # p99 None: it fell among requests never answered (dropped or cut off)
    unanswered = [cell("uvicorn", "async", 10, [repeat(1, None)])]
    assert sustained.sustained_rates(unanswered, slo_ms=100)[0].per_pass == [0.0]
    enough = [cell("uvicorn", "async", 10, [repeat(1, 50, count=3000)])]
    assert sustained.sustained_rates(enough, slo_ms=100)[0].per_pass == [10.0]


def test_a_verdict_between_two_searches_has_its_interval():
    cells = []
    for rate, uvicorn_p99, gthread_p99 in ((50, 40, 40), (100, 40, 900), (400, 40, 900)):
        cells.append(cell("uvicorn", "async", rate, [repeat(i, uvicorn_p99) for i in (1, 2, 3)]))
        cells.append(
            cell("gunicorn-gthread", "sync", rate, [repeat(i, gthread_p99) for i in (1, 2, 3)])
        )
    rows = sustained.sustained_rates(cells, slo_ms=100)
    (verdict,) = sustained.headline_verdicts(rows, INTERFACES)
    assert verdict.metrics["sustained rate"].ratio == pytest.approx(8.0)
    assert verdict.bounded  # uvicorn met the top rate in every pass
    assert "at p99 < 100 ms" in sustained.describe_verdict(verdict)


def test_a_configuration_that_never_or_always_meets_the_objective_is_bounded():
    never = [cell("uvicorn", "async", rate, [repeat(1, 500)]) for rate in (10, 20)]
    always = [cell("gunicorn-gthread", "sync", rate, [repeat(1, 5)]) for rate in (10, 20)]
    rows = {row.server: row for row in sustained.sustained_rates(never + always, 100)}
    assert sustained.describe_rate(rows["uvicorn"]) == "below 10 req/s (the lowest rate swept)"
    assert sustained.describe_rate(rows["gunicorn-gthread"]).startswith(">= 20 req/s")
