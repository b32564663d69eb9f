"""bench.report.switch_report: the cost of one switch, three ways, from a run on disk.

The run is made to measure: every repeat's server CPU is a fixed cost per
(server, endpoint, users) plus exactly 40 µs per sync_to_async and 100 µs per
async_to_sync, so the fit must find those slopes with no residual; the
in-request wall times and the microbenchmark have known means too.
"""

import json
from pathlib import Path

import pytest

from bench.report import switch_report
from bench.results import store as results
from bench.results.records.microbench import MicrobenchSummary

FIXED_MS = {"uvicorn": 0.5, "gunicorn-gthread": 0.8}
S2A_MS, A2S_MS = 0.040, 0.100
# (server, style, stack, sync_to_async per request, async_to_sync per request)
CELLS = [
    ("uvicorn", "async", "none", 1, 0),
    ("uvicorn", "async", "django", 3, 1),
    ("uvicorn", "sync", "none", 2, 2),
    ("gunicorn-gthread", "sync", "none", 0, 1),
    ("gunicorn-gthread", "async", "none", 1, 0),
    ("gunicorn-gthread", "sync", "django", 2, 3),
]
REQUESTS = 100
# in-request wall time outside the wrapped function, per hop, by server
S2A_WALL_US = {"uvicorn": 30.0, "gunicorn-gthread": 60.0}


def identity(server: str, style: str, stack: str, scenario: str = "switches") -> dict:
    cell_id = f"{scenario}.json.{server}.{style}.{stack}.u1"
    return {
        "id": cell_id, "scenario": scenario, "endpoint": "json", "server": server,
        "style": style, "stack": stack, "users": 1, "db_mode": "",
    }  # fmt: skip


def repeat(number: int, server: str, s2a: float, a2s: float, cpu_ms: float | None = None) -> dict:
    if cpu_ms is None:
        cpu_ms = FIXED_MS[server] + S2A_MS * s2a + A2S_MS * a2s
    return {
        "repeat": number,
        "status": "ok",
        "server": {"cpu_ms_per_request": cpu_ms},
        "loadgen": {"bound": False},
        "switches": {
            "requests": REQUESTS,
            "sync_to_async": int(s2a * REQUESTS),
            "async_to_sync": int(a2s * REQUESTS),
            "sync_to_async_per_request": s2a,
            "async_to_sync_per_request": a2s,
            "async_to_sync_new_loop_per_request": 0.0,
            "sync_to_async_wall_outside_us": S2A_WALL_US[server],
            "async_to_sync_wall_outside_us": 10.0,
        },
    }


def write_cell(run_dir: Path, cell: dict, repeats: list[dict]) -> None:
    document = {
        "schema_version": results.SCHEMA_VERSION,
        "cell": cell,
        "status": "ok",
        "planned_repeats": len(repeats),
        "repeats": repeats,
    }
    results.write_json(results.cell_path(run_dir, cell["id"]), document)


@pytest.fixture
def run(tmp_path: Path) -> results.Run:
    run_dir = tmp_path / "results" / "20261202T000000Z-switches"
    (run_dir / "cells").mkdir(parents=True)
    run_json = {"schema_version": results.SCHEMA_VERSION, "label": "switches", "status": "ok"}
    results.write_json(run_dir / "run.json", run_json)
    for server, style, stack, s2a, a2s in CELLS:
        repeats = [repeat(1, server, s2a, a2s), repeat(2, server, s2a, a2s)]
        if stack == "django":
            # an outlying repeat (the median ignores it, the fit explains it), then a
            # failed repeat and one without counts: neither of those is a point
            repeats.append(repeat(5, server, s2a + 4, a2s))
            repeats.append({"repeat": 3, "status": "failed", "reason": "server died"})
            repeats.append({**repeat(4, server, s2a, a2s, cpu_ms=99.0), "switches": None})
        write_cell(run_dir, identity(server, style, stack), repeats)
    # a cell of another scenario, with a CPU no fit of the switches cells explains
    stray = identity("uvicorn", "sync", "none", scenario="json")
    write_cell(run_dir, stray, [repeat(1, "uvicorn", 1, 1, cpu_ms=50.0)])
    return results.read_run(run_dir)


MICROBENCH = MicrobenchSummary.from_json(
    {
        "schema_version": results.SCHEMA_VERSION,
        "per_switch": {
            "sync_to_async, warm context, thread_sensitive=True": {
                "wall": {"mean_us": 25.0, "stdev_us": 2.0},
                "cpu": {"mean_us": 20.0, "stdev_us": 1.5},
            }
        },
    }
)


def test_the_fit_finds_the_cost_built_into_the_run(run):
    analysis = switch_report.analyse(run, MICROBENCH)
    assert analysis.cells == len(CELLS)  # the switches scenario only
    assert analysis.run == run.path.name
    fit = analysis.fits[1]
    assert fit.n == 2 * len(CELLS) + 2 and fit.note == ""
    assert fit.r_squared == pytest.approx(1.0)
    assert fit.dropped == ["async_to_sync_new_loop"]  # never made, so not fitted
    assert fit.slopes_us["sync_to_async"]["us_per_switch"] == pytest.approx(40.0)
    assert fit.slopes_us["async_to_sync_warm"]["us_per_switch"] == pytest.approx(100.0)
    assert fit.fixed_ms == {
        "gunicorn-gthread/json/u1": pytest.approx(0.8),
        "uvicorn/json/u1": pytest.approx(0.5),
    }
    assert len(analysis.points) == 2 * len(CELLS) + 2


def test_three_figures_side_by_side_beside_the_docs_claim(run):
    side = switch_report.analyse(run, MICROBENCH).to_json()["side_by_side"]
    s2a = side["sync_to_async"]
    assert (s2a["microbench_wall_us"], s2a["microbench_wall_sd_us"]) == (25.0, 2.0)
    assert (s2a["microbench_cpu_us"], s2a["microbench_cpu_sd_us"]) == (20.0, 1.5)
    # weighted by hops: 1,900 of them at 30 µs (uvicorn), 1,200 at 60 µs (gunicorn)
    assert s2a["accounting_wall_us"] == pytest.approx((1900 * 30 + 1200 * 60) / 3100)
    assert s2a["fit_cpu_us_u1"]["us_per_switch"] == pytest.approx(40.0)
    assert s2a["docs_claim_us"] == 1000.0
    warm = side["async_to_sync (warm)"]
    assert warm["accounting_wall_us"] == pytest.approx(10.0)
    assert "microbench_wall_us" not in warm  # not in this microbenchmark
    # the new-loop switch: no accounting figure of its own, and not fitted here
    assert side["async_to_sync (new event loop)"] == {"docs_claim_us": 1000.0}


def test_the_hops_table_is_the_median_of_good_repeats_in_order(run):
    rows = switch_report.analyse(run, None).hops
    assert [(r.stack, r.server, r.style) for r in rows] == [
        ("django", "gunicorn-gthread", "sync"),
        ("django", "uvicorn", "async"),
        ("none", "gunicorn-gthread", "async"),
        ("none", "gunicorn-gthread", "sync"),
        ("none", "uvicorn", "async"),
        ("none", "uvicorn", "sync"),
    ]
    django_async = rows[1]
    assert (django_async.sync_to_async, django_async.async_to_sync) == (3, 1)
    assert django_async.cpu_ms == pytest.approx(0.5 + 3 * 0.04 + 0.1)  # not the 99 ms one


def test_the_printed_report_says_each_figure(run):
    text = switch_report.format_report(switch_report.analyse(run, MICROBENCH))
    lines = text.splitlines()
    assert "  json       1 django  uvicorn           async    3.00  1.00   0.720" in lines
    (s2a,) = [line for line in lines if line.startswith("  sync_to_async ")]
    assert s2a.split() == [
        "sync_to_async", "25", "±", "2", "20", "±", "2", "42", "±", "15", "40", "[40,", "40]"
    ]  # fmt: skip
    assert f"  {switch_report.DOCS_CLAIM}: 1000 µs" in lines
    assert any(line.startswith("fit u1: 14 points, R² 1.000") for line in lines)
    assert "    fixed cost uvicorn/json/u1: 0.500 ms" in lines


def test_write_keeps_the_analysis_and_draws_one_chart_per_user_count(run):
    analysis = switch_report.analyse(run, None)
    written = switch_report.write(run, analysis)
    assert written[0] == run.path / "switches.json"
    written_json = results.read_json(run.path / "switches.json")
    assert written_json == json.loads(json.dumps(analysis.to_json()))
    charts = [path for path in written[1:] if path.name.startswith("switch-fit-u1")]
    assert charts and all(path.exists() and path.stat().st_size > 0 for path in charts)


def test_the_newest_microbenchmark_is_found_or_none(tmp_path):
    assert switch_report.load_microbench(tmp_path) == (None, None)
    for stamp, mean in (("20261201T000000Z", 1.0), ("20261202T000000Z", 2.0)):
        path = tmp_path / f"{stamp}-microbench" / "summary.json"
        path.parent.mkdir()
        results.write_json(path, {"schema_version": results.SCHEMA_VERSION, "mean": mean})
    path, summary = switch_report.load_microbench(tmp_path)
    assert path == tmp_path / "20261202T000000Z-microbench" / "summary.json"
    assert summary.json_extra["mean"] == 2.0
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"schema_version": 0}))
    with pytest.raises(results.ResultsError, match="schema version 0"):
        switch_report.load_microbench(tmp_path, old)
