"""What the commands print, worded by bench.cli.formatter from figures given to it."""

import shutil
from pathlib import Path
from types import SimpleNamespace

from bench.cli import formatter
from bench.results.records import CrossCheck
from bench.results.records.soak import SoakDocument

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "runs"


def test_results_line_names_the_status_only_when_there_is_one():
    assert formatter.results_line(Path("results/x")) == "results: results/x"
    assert formatter.results_line(Path("results/x"), "partial") == "results: results/x (partial)"


def test_dry_run_lists_cells_then_notes_warnings_and_the_time():
    cells = [SimpleNamespace(id="json.json.uvicorn.async.none.u32"), SimpleNamespace(id="b")]
    lines = formatter.dry_run(cells, ["n1"], ["w1"], count=2, plan="9 repeats", minutes=1.234)
    assert lines == [
        "json.json.uvicorn.async.none.u32",
        "b",
        "note: n1",
        "warning: w1",
        "2 cells, 9 repeats: about 1.2 min",
    ]


def test_listing_says_which_servers_are_not_installed():
    scenario = SimpleNamespace(
        name="json", summary="CPU-bound", endpoints={"a": 1, "b": 2}, users=(1, 32)
    )
    spec = SimpleNamespace(interface="asgi", summary="an ASGI server")
    lines = formatter.listing(
        [scenario], {"uvicorn": spec, "other": spec}, {"uvicorn": True, "other": False}, ["none"]
    )
    assert lines[0] == "scenarios:" and "endpoints: a, b; users [1, 32]" in lines[2]
    assert lines[4].endswith("an ASGI server") and "ASGI" in lines[4]
    assert lines[5].endswith("(not installed: pip install '.[servers]')")
    assert lines[-2:] == ["stacks:", "  none"]


def test_cross_check_says_whether_locust_and_wrk_agree():
    check = {"within_10_percent": False, "locust_bound": True, "locust_rps": 2761.4}
    check |= {"wrk_rps": 3921.0, "locust_over_wrk": 0.704}
    line = formatter.cross_check("gunicorn-gthread", 32, CrossCheck.from_json(check))
    assert line == (
        "gunicorn-gthread /sync/json, 32 connections: locust 2,761 req/s, wrk 3,921 req/s, "
        "ratio 0.70: NOT within 10% (locust was the bottleneck)"
    )
    agree = check | {"within_10_percent": True, "locust_bound": False}
    text = formatter.cross_check("uvicorn", 8, CrossCheck.from_json(agree))
    assert text.endswith("ratio 0.70: within 10%")


def test_switches_names_the_microbenchmark_or_says_there_is_none():
    assert formatter.switches("table", None)[1].startswith("(no microbench results yet")
    path = Path("results/20261202T000000Z-microbench/summary.json")
    assert formatter.switches("table", path) == [
        "table",
        "(microbench: 20261202T000000Z-microbench)",
    ]


def test_archived_is_in_kib():
    assert formatter.archived(Path("docs/runs/x"), 52_300) == "archived: docs/runs/x (51 KiB)"


def test_soak_table_rows_growth_and_flags():
    minute = {"minute": 1, "throughput_rps": 1046.4, "p99_ms": 37.61, "errors": 0}
    analysis = {"status": "ok", "cell": "json.json", "window_s": 120.0, "total_errors": 0}
    analysis |= {"rss_growth_pct": 0.4, "flags": [], "minutes": [minute | {"rss_peak_mb": 60.2}]}
    table = formatter.soak_table(SoakDocument.from_json(analysis)).splitlines()
    assert table[0] == "soak of json.json (2.0 min):"
    assert table[2].split() == ["1", "1,046", "37.6", "0", "60.2"]
    assert table[-2:] == ["  errors 0, RSS growth +0.4%", "  no flags"]
    flagged = analysis | {"rss_growth_pct": None, "flags": ["server RSS grew 25.0%"]}
    assert formatter.soak_table(SoakDocument.from_json(flagged)).splitlines()[-2:] == [
        "  errors 0, RSS growth unknown",
        "  FLAG: server RSS grew 25.0%",
    ]
    failed = {"status": "failed", "cell": "json.json", "reason": "server died"}
    assert (
        formatter.soak_table(SoakDocument.from_json(failed))
        == "soak of json.json failed: server died"
    )


def test_verdicts_of_a_built_report(tmp_path):
    from bench.report import build

    run = tmp_path / "run_a"
    shutil.copytree(FIXTURES / "run_a", run)
    built = build.build(run, charts=False)
    lines = formatter.verdicts(built)
    asked = [f"{name}: {row.question}: " for name, rows in built.verdicts.items() for row in rows]
    assert asked and built.site is None, "the fixture run answers questions of the bundled project"
    assert all(line.startswith(prefix) for line, prefix in zip(lines, asked, strict=False))
    assert [line for line in lines if line.startswith("caveat: ")] == [
        f"caveat: {note}" for note in built.caveats
    ]
    assert formatter.report_written(built).startswith(
        f"report: {run / 'report.html'} (and report.md, charts/; built in "
    )


def test_a_sites_verdict_comes_first_and_the_report_last():
    site = SimpleNamespace(lines=["verdict", "why"])
    built = SimpleNamespace(site=site, verdicts={}, sustained_verdicts=[])
    built.caveats, built.run, built.seconds = [], SimpleNamespace(path=Path("r")), 1.26
    assert formatter.verdicts(built) == ["your site: verdict", "your site: why"]
    assert formatter.report_written(built) == (
        "report: r/report.html (and report.md, charts/; built in 1.3 s)"
    )


def _cost_document():
    from bench.cost.records import (
        CostCell,
        CostDocument,
        CostRepeat,
        CostSettingsRecord,
        HopCount,
        ValgrindRecord,
    )
    from bench.plan.matrix import Cell

    def cell(server, style, values, hops, status="ok", error=None):
        return CostCell(
            cell=Cell("json", "json", server, style, "none", 1),
            status=status,
            error=error,
            repeats=[CostRepeat(index=i, instructions_per_request=v) for i, v in enumerate(values)],
            hops=HopCount(requests=10, sync_to_async=hops) if values else None,
        )

    return CostDocument(
        settings=CostSettingsRecord(low_requests=200, high_requests=600, repeats=3),
        valgrind=ValgrindRecord(version="valgrind-3.19.0"),
        cells=[
            cell("gunicorn-gthread", "sync", [990_000.0, 1_000_000.0, 1_010_000.0], 0),
            cell("uvicorn", "async", [1_810_000.0], 20),
            cell("uvicorn", "sync", [], 0, status="failed", error="GET /sync/json answered 500"),
        ],
    )


def test_the_cost_table_has_a_row_per_cell_with_its_spread_hops_and_ratio():
    document = _cost_document()
    ratios = {"json.json.uvicorn.async.none.u1": 1.81}
    lines = formatter.cost_table(document, ratios).splitlines()
    assert lines[1].split() == [
        "json.json.gunicorn-gthread.sync.none.u1",
        "1.000",
        "M",
        "3",
        "2.00%",
        "0",
        "-",
    ]
    assert lines[2].split() == [
        "json.json.uvicorn.async.none.u1",
        "1.810",
        "M",
        "1",
        "-",
        "2",
        "x1.81",
    ]
    assert lines[3].endswith("failed: GET /sync/json answered 500")
    assert "(I[600] - I[200]) / 400 requests" in lines[4] and "valgrind-3.19.0" in lines[4]


def test_a_cost_repeat_and_a_failed_cell_are_one_line_each():
    document = _cost_document()
    assert formatter.cost_progress(document.cells[1], "r1") == (
        "json.json.uvicorn.async.none.u1 r1: 1.810 M instructions/request, 2 hops/request"
    )
    assert formatter.cost_progress(document.cells[2], "failed") == (
        "json.json.uvicorn.sync.none.u1: failed: GET /sync/json answered 500"
    )


def test_one_hop_s_cost_names_the_cells_and_their_hops():
    from bench.cost.execute import HopCost
    from bench.cost.records import CostCell, CostRepeat, HopCount
    from bench.plan.matrix import Cell

    def cell(endpoint, value, s2a):
        return CostCell(
            cell=Cell("hops", endpoint, "uvicorn", "async", "none", 1),
            repeats=[CostRepeat(index=1, instructions_per_request=value)],
            hops=HopCount(requests=10, sync_to_async=s2a),
        )

    cost = HopCost("hops uvicorn async none", cell("hops0", 1e6, 20), cell("hops10", 2.2345e6, 120))
    assert formatter.hop_costs([cost]) == [
        "one hop, hops uvicorn async none: 123.5 k instructions "
        "(hops0 -> hops10: 2 -> 12 hops/request)"
    ]
