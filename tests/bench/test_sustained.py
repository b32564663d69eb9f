"""The open-loop headline from a sweep, against hand-made cells."""

import pytest

from bench import sustained

INTERFACES = {"uvicorn": "asgi", "gunicorn-gthread": "wsgi"}


def repeat(p99: float, sustainable: bool = True, count: int = 5000, top: float = 0) -> dict:
    return {
        "status": "ok",
        "latency_ms": {"p99": p99, "count": count, "max": top or p99 * 1.5},
        "open_loop": {"sustainable": sustainable},
    }


def cell(server: str, style: str, rate: int, repeats: list[dict]) -> dict:
    identity = {
        "scenario": "io",
        "endpoint": "io50",
        "server": server,
        "style": style,
        "stack": "none",
        "db_mode": "",
        "users": 2 * rate,
        "rate": rate,
    }
    return {"cell": identity, "repeats": repeats}


def test_the_sustained_rate_is_the_top_of_an_unbroken_run_under_the_objective():
    cells = [
        cell("uvicorn", "async", 100, [repeat(60), repeat(60), repeat(60)]),
        cell("uvicorn", "async", 200, [repeat(80), repeat(90), repeat(150)]),
        # a pass that fails at 200 cannot count 400, even if 400 looked fine
        cell("uvicorn", "async", 400, [repeat(95), repeat(400), repeat(90)]),
        cell("gunicorn-gthread", "sync", 100, [repeat(70), repeat(90), repeat(60, False)]),
        cell("gunicorn-gthread", "sync", 200, [repeat(900), repeat(900), repeat(900)]),
        cell("gunicorn-gthread", "sync", 400, [repeat(3000), repeat(3000), repeat(3000)]),
    ]
    rows = {row["server"]: row for row in sustained.sustained_rates(cells, slo_ms=100)}
    assert rows["uvicorn"]["per_pass"] == [400.0, 200.0, 100.0]
    assert rows["gunicorn-gthread"]["per_pass"] == [100.0, 100.0, 0.0]
    assert not rows["uvicorn"]["at_least_top"] and not rows["gunicorn-gthread"]["below_lowest"]
    assert sustained.describe_rate(rows["uvicorn"]) == "200 req/s (passes: 400, 200, 100)"
    (verdict,) = sustained.headline_verdicts(list(rows.values()), INTERFACES)
    # gthread's third pass sustained nothing: no logarithm, so no test, said so
    assert verdict["metrics"]["sustained rate"]["verdict"] == "not tested (a value <= 0)"
    assert "at p99 < 100 ms" in sustained.describe_verdict(verdict)


def test_a_verdict_between_two_sweeps_has_its_interval():
    cells = []
    for rate in (50, 100, 200, 400):
        ok = rate <= 200
        cells.append(cell("uvicorn", "async", rate, [repeat(50 if ok else 500)] * 3))
        cells.append(
            cell("gunicorn-gthread", "sync", rate, [repeat(50 if rate == 50 else 900)] * 3)
        )
    rows = sustained.sustained_rates(cells, slo_ms=100)
    (verdict,) = sustained.headline_verdicts(rows, INTERFACES)
    assert verdict["metrics"]["sustained rate"]["ratio"] == pytest.approx(4.0)
    assert (
        verdict["metrics"]["sustained rate"]["verdict"] == "not tested (no spread between repeats)"
    )
    assert not verdict["bounded"]


def test_a_configuration_that_never_or_always_meets_the_objective_is_bounded():
    never = [cell("uvicorn", "async", rate, [repeat(500)]) for rate in (10, 20)]
    always = [cell("gunicorn-gthread", "sync", rate, [repeat(5)]) for rate in (10, 20)]
    rows = {row["server"]: row for row in sustained.sustained_rates(never + always, 100)}
    assert sustained.describe_rate(rows["uvicorn"]) == "below 10 req/s (the lowest rate swept)"
    assert sustained.describe_rate(rows["gunicorn-gthread"]).startswith(">= 20 req/s")


def test_a_p99_without_enough_samples_is_checked_by_the_maximum():
    few = [cell("uvicorn", "async", 10, [repeat(50, count=300, top=150)])]
    (row,) = sustained.sustained_rates(few, slo_ms=100)
    assert row["per_pass"] == [0.0]  # max 150 ms > 100, though the p99 said 50
    enough = [cell("uvicorn", "async", 10, [repeat(50, count=3000, top=150)])]
    assert sustained.sustained_rates(enough, slo_ms=100)[0]["per_pass"] == [10.0]
