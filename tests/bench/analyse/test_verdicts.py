"""Verdicts from synthetic cells: intervals, Holm across every row, sample gating."""

import pytest

from bench.analyse import stats, verdicts
from bench.results.records import CellDocument
from bench.results.rows import Metric, VerdictRow

doc = CellDocument.from_json

INTERFACES = {"uvicorn": "asgi", "gunicorn-gthread": "wsgi"}


def cell(
    scenario: str,
    server: str,
    style: str,
    throughput: list[float],
    p99: list[float],
    cpu: list[float],
    count: int = 20_000,
) -> dict:
    identity = {
        "id": f"{scenario}.{server}.{style}",
        "scenario": scenario,
        "endpoint": scenario,
        "server": server,
        "style": style,
        "stack": "none",
        "users": 32,
    }
    repeats = [
        {
            "repeat": index + 1,
            "status": "ok",
            "throughput_rps": rps,
            "latency_ms": {"count": count, "p99": latency},
            "server": {"cpu_ms_per_request": cpu_ms},
        }
        for index, (rps, latency, cpu_ms) in enumerate(zip(throughput, p99, cpu, strict=True))
    ]
    return {"cell": identity, "status": "ok", "repeats": repeats}


def metric(ratio, low, high, p_value, verdict="significant") -> Metric:
    return Metric(
        ratio=ratio,
        ci_low=low,
        ci_high=high,
        n_a=3,
        n_b=3,
        p_value=p_value,
        p_holm=p_value,
        significant=verdict == "significant",
        verdict=verdict,
    )


def row_of(metrics: dict[str, Metric]) -> VerdictRow:
    return VerdictRow("a question", "b", "a", loadgen_bound=False, metrics=metrics)


def test_holm_runs_across_every_metric_of_every_row():
    rows = [
        row_of(
            {
                "throughput": metric(2.3, 2.1, 2.52, 0.01),
                "p99": metric(0.41, 0.2, 0.9, 0.04),
            }
        ),
        row_of(
            {
                "throughput": metric(1.1, 1.02, 1.2, 0.03),
                "p99": metric(1.5, None, None, None, "not tested (1 repeat)"),
                "CPU/request": metric(0.5, 0.45, 0.55, 0.005),
            }
        ),
    ]
    verdicts.correct(rows)
    first, second = rows[0].metrics, rows[1].metrics
    held = [first["throughput"], first["p99"], second["throughput"], second["CPU/request"]]
    assert [m.p_holm for m in held] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert [m.significant for m in held] == [True, False, False, True]
    assert first["p99"].verdict == "not significant after Holm"
    assert first["p99"].ci_high == 0.9  # the printed interval stays the unadjusted one
    untested = second["p99"]
    assert untested.p_holm is None and untested.verdict == "not tested (1 repeat)"


def test_describe_prints_ratio_interval_and_what_was_not_tested():
    row = row_of(
        {
            "throughput": metric(2.3, 2.1, 2.52, 0.001),
            "p99": metric(0.41, 0.2, 0.9, 0.04, "not significant after Holm"),
            "CPU/request": metric(1.8, None, None, None, "not tested (1 repeat)"),
        }
    )
    assert verdicts.describe(row) == (
        "throughput x2.30 [2.10, 2.52], p99 x0.41 [0.20, 0.90] (not significant after Holm), "
        "CPU/request x1.80 (not tested: 1 repeat)"
    )
    row.metrics["p99"] = metric(None, None, None, None, "not tested (too few samples)")
    assert "p99 not tested (too few samples)" in verdicts.describe(row)
    small = metric(0.004, 0.003, 0.006, 0.001)
    assert verdicts.metric_text(small) == "x0.004 [0.003, 0.006]"


def test_a_p99_from_too_few_samples_per_repeat_is_not_tested():
    sync = cell("json", "gunicorn-gthread", "sync", [100, 102, 98], [50, 52, 51], [1, 1.1, 0.9])
    few = cell("json", "uvicorn", "async", [200, 202, 198], [20, 21, 22], [2, 2.1, 1.9], 600)
    result = verdicts.compare_cells(doc(sync), doc(few), ("latency_ms", "p99"))
    assert result.verdict == "not tested (too few samples)" and result.ratio is None
    enough = cell("json", "uvicorn", "async", [200, 202, 198], [20, 21, 22], [2, 2.1, 1.9], 1_000)
    assert verdicts.compare_cells(doc(sync), doc(enough), ("latency_ms", "p99")).tested
    # throughput is a count, not a tail: it is tested whatever the samples
    assert verdicts.compare_cells(doc(sync), doc(few), ("throughput_rps",)).tested


def test_a_p99_beyond_every_answer_is_not_tested_and_says_why():
    """An overloaded open-loop cell's p99 fell among requests never answered:
    it has no value, and the verdict says so instead of "no data"."""
    fine = cell("io", "uvicorn", "async", [200, 200, 200], [20, 21, 22], [2, 2.1, 1.9], 1_000)
    overloaded = cell("io", "gunicorn-gthread", "sync", [78, 77, 79], [50, 52, 51], [1, 1, 1])
    for repeat in overloaded["repeats"]:
        repeat["latency_ms"].update(p99=None, unanswered=786)
    result = verdicts.compare_cells(doc(overloaded), doc(fine), ("latency_ms", "p99"))
    assert result.ratio is None
    assert (
        result.verdict == "not tested (beyond every answer in io.io.gunicorn-gthread.sync.none.u32)"
    )
    assert verdicts.compare_cells(doc(overloaded), doc(fine), ("throughput_rps",)).tested


def test_verdicts_correct_across_all_scenarios_of_a_report():
    cells = []
    for scenario, shift in (("json", 1.05), ("io", 1.06), ("db", 1.5)):
        cells.append(
            cell(
                scenario, "gunicorn-gthread", "sync", [100, 101, 99], [50, 51, 49], [1, 1.01, 0.99]
            )
        )
        cells.append(
            cell(
                scenario,
                "uvicorn",
                "async",
                [100 * shift, 102 * shift, 99 * shift],
                [50, 52, 49],
                [1, 1.02, 0.98],
            )
        )
    found = verdicts.verdicts(cells, INTERFACES)
    rows = [row for scenario in ("json", "io", "db") for row in found[scenario]]
    metrics = [m for row in rows for m in row.metrics.values()]
    assert all(m.p_value is not None for m in metrics)
    expected = stats.holm([m.p_value for m in metrics])
    assert [m.p_holm for m in metrics] == pytest.approx(expected)
    assert all(m.significant == (m.p_holm < 0.05) for m in metrics)
    assert found["db"][0].metrics["throughput"].significant
    lone = verdicts.verdicts(cells[:2], INTERFACES)["json"][0].metrics
    # Alone it would pass; among nine tests it is "not significant after Holm".
    json_throughput = found["json"][0].metrics["throughput"]
    assert lone["throughput"].p_value == pytest.approx(json_throughput.p_value)
    assert json_throughput.p_value < 0.05 and lone["throughput"].p_holm < 0.05
    assert json_throughput.verdict == "not significant after Holm"


def test_each_endpoint_is_compared_with_a_declared_baseline():
    def endpoint(name: str, server: str, cpu: list[float]) -> dict:
        found = cell("deco", server, "async", [100, 101, 99], [50, 51, 49], cpu)
        found["cell"].update(endpoint=name, id=f"deco.{name}.{server}.async")
        return found

    cells = [
        endpoint("baseline", "uvicorn", [1.0, 1.01, 0.99]),
        endpoint("gzip", "uvicorn", [1.5, 1.52, 1.48]),
        endpoint("gzip", "gunicorn-gthread", [1.4, 1.41, 1.39]),  # no baseline cell there
    ]
    rows = verdicts.verdicts(cells, INTERFACES, {"deco": "baseline"})["deco"]
    (row,) = [row for row in rows if row.question.startswith("gzip vs baseline")]
    assert row.question == "gzip vs baseline (uvicorn, async)"
    assert row.metrics["CPU/request"].ratio == pytest.approx(1.5, rel=0.01)
    assert len(rows) == 1  # the gthread gzip cell has nothing to pair with
    assert "deco" not in verdicts.verdicts(cells, INTERFACES)


def test_a_configuration_failing_over_one_percent_gets_no_ratio():
    from bench.analyse.verdicts import describe, verdicts

    def site_cell(server: str, error_rate: float, status: str = "ok") -> dict:
        repeats = [
            {
                "status": status,
                "error_rate": error_rate,
                "throughput_rps": 100.0 + index,
                "latency_ms": {"p99": 10.0, "count": 2000},
                "server": {"cpu_ms_per_request": 1.0},
                "errors": {"GET / | HTTP 500": 7} if error_rate else {},
                "reason": None if status == "ok" else "92% of requests failed, e.g. x",
            }
            for index in range(3)
        ]
        identity = {"id": f"site.pages.{server}.own.own.u32", "scenario": "site",
                    "endpoint": "pages", "server": server, "style": "own", "stack": "own",
                    "users": 32}  # fmt: skip
        return {"cell": identity, "status": status, "repeats": repeats}

    interfaces = {"gunicorn-gthread": "wsgi", "uvicorn": "asgi"}
    wsgi = site_cell("gunicorn-gthread", 0.0)
    (row,) = verdicts([wsgi, site_cell("uvicorn", 0.2)], interfaces)["site"]
    assert row.metrics == {}
    assert describe(row) == (
        "no ratio: `site.pages.uvicorn.own.own.u32` failed 20.0% of its requests "
        "(3 of 3 repeats over 1%), e.g. GET / | HTTP 500"
    )
    (row,) = verdicts([wsgi, site_cell("uvicorn", 0.0, "failed")], interfaces)["site"]
    assert describe(row) == (
        "no ratio: `site.pages.uvicorn.own.own.u32` failed every repeat: "
        "92% of requests failed, e.g. x"
    )
    (row,) = verdicts([wsgi, site_cell("uvicorn", 0.01)], interfaces)["site"]
    assert set(row.metrics) == {"throughput", "p99", "CPU/request"}  # 1% is still compared


def test_cells_group_by_identity_in_first_seen_order_with_cells_defaults():
    from bench.analyse.groups import by_identity, documents

    def cell(endpoint, server, **more):
        identity = {"scenario": "s", "endpoint": endpoint, "server": server, "style": "sync"}
        return {"cell": {**identity, "stack": "none", "users": 1, **more}}

    cells = documents(
        [cell("b", "x"), cell("a", "x", db_mode="sqlite"), cell("b", "y"), cell("a", "x")]
    )
    groups = by_identity(cells, ("endpoint", "db_mode", "rate"))
    assert list(groups) == [("b", "", 0), ("a", "sqlite", 0), ("a", "", 0)]
    assert groups[("b", "", 0)] == [cells[0], cells[2]]


def with_ctx(data: dict, per_request: list[float]) -> dict:
    for repeat, value in zip(data["repeats"], per_request, strict=True):
        repeat["server"]["sched"] = {"ctx_per_request": value}
    return data


def test_the_ctx_switch_ratio_stands_beside_the_verdict_outside_holms_family():
    """ASGI's 9, 10, 11 switches per request against WSGI's 3, 3, 3: x3.30
    (geometric means), printed after the tested ratios, never Holm-corrected."""
    wsgi = with_ctx(cell("json", "gunicorn-gthread", "sync", [100] * 3, [50] * 3, [1] * 3), [3] * 3)
    asgi = with_ctx(cell("json", "uvicorn", "async", [90] * 3, [55] * 3, [2] * 3), [9, 10, 11])
    (row,) = verdicts.verdicts([wsgi, asgi], INTERFACES)["json"]
    expected = (9 * 10 * 11) ** (1 / 3) / 3
    assert row.kernel["ctx switches/request"].ratio == pytest.approx(expected)
    assert "ctx switches/request" not in row.metrics  # not among the tested
    text = verdicts.describe(row)
    assert f"ctx switches/request x{expected:.2f}" in text and "(descriptive)" in text
    assert text.index("CPU/request") < text.index("ctx switches/request")
    assert row.to_json()["kernel"]["ctx switches/request"]["ratio"] == pytest.approx(expected)


def test_no_ctx_switch_ratio_where_a_cell_did_not_read_them():
    wsgi = cell("json", "gunicorn-gthread", "sync", [100] * 3, [50] * 3, [1] * 3)
    asgi = with_ctx(cell("json", "uvicorn", "async", [90] * 3, [55] * 3, [2] * 3), [9, 10, 11])
    (row,) = verdicts.verdicts([wsgi, asgi], INTERFACES)["json"]
    assert row.kernel is None and "ctx switches" not in verdicts.describe(row)
    assert "kernel" not in row.to_json()
