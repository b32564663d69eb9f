"""The report of a run, built from small committed fixture runs."""

import json
import shutil
from pathlib import Path

import pytest

from bench import report, results

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "runs"


@pytest.fixture
def run_a(tmp_path) -> Path:
    target = tmp_path / "run_a"
    shutil.copytree(FIXTURES / "run_a", target)
    return target


def test_the_report_has_every_chart_and_both_documents(run_a):
    built = report.build(run_a)
    assert set(built.charts) == {
        "Throughput",
        "Latency percentiles",
        "Server CPU per request",
        "Peak memory",
        "Peak threads",
        "Switches per request",
        "io: user-count sweep",
    }
    for png in built.charts.values():
        assert png.exists() and png.with_suffix(".svg").exists()
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (run_a / "report.html").read_text()
    assert html.count("data:image/png;base64,") == len(built.charts)
    assert "<img" in html and 'src="charts/' not in html  # self-contained
    markdown = (run_a / "report.md").read_text()
    assert "![Throughput](charts/throughput.png)" in markdown


def test_verdicts_pair_asgi_async_with_wsgi_sync(run_a):
    built = report.build(run_a)
    (migration, rewrite) = built.verdicts["json"]
    assert migration["question"] == "ASGI + async vs WSGI + sync"
    assert migration["candidate"] == "json.json.uvicorn.async.none.u32"
    assert migration["baseline"] == "json.json.gunicorn-gthread.sync.none.u32"
    throughput = migration["metrics"]["throughput"]
    assert throughput["ratio"] == pytest.approx(1100 / 3000) and throughput["significant"]
    assert migration["metrics"]["CPU/request"]["ratio"] == pytest.approx(0.88 / 0.330)
    assert rewrite["question"] == "async vs sync views, same ASGI server"
    assert rewrite["baseline"] == "json.json.uvicorn.sync.none.u32"
    io_rows = built.verdicts["io"]
    assert {row["candidate"] for row in io_rows} == {
        "io.io50.uvicorn.async.none.u10",
        "io.io50.uvicorn.async.none.u200",
    }
    assert "db" not in built.verdicts  # its only cell failed
    markdown = (run_a / "report.md").read_text()
    assert "ASGI + async vs WSGI + sync (`json.json.uvicorn.async.none.u32` vs" in markdown
    assert "throughput x0.37, p99" in markdown


def test_caveats_name_bound_failed_and_partial(run_a):
    built = report.build(run_a)
    text = "\n".join(built.caveats)
    assert "This run is partial" in text
    assert (
        "json.json.gunicorn-sync.sync.none.u32: load-generator bound in repeats [1, 2, 3]" in text
    )
    assert "its throughput is a lower bound" in text
    assert "db.queries.uvicorn.async.none.u32.sqlite: failed, no figure shown" in text
    assert "ImproperlyConfigured" not in text.split("failed, no figure shown")[0]
    assert "4,800 requests/s" in text
    table = (run_a / "report.md").read_text().split("## Cells")[1]
    assert "| `json.json.gunicorn-sync.sync.none.u32` | ok, loadgen-bound | 1,990 |" in table
    assert "| `db.queries.uvicorn.async.none.u32.sqlite` | failed | - |" in table


def test_noise_above_five_percent_is_a_caveat(run_a):
    path = run_a / "cells" / "json.json.uvicorn.sync.none.u32.json"
    cell = json.loads(path.read_text())
    cell["summary"]["throughput_rps"]["spread_pct"] = 7.5
    path.write_text(json.dumps(cell))
    assert any("varies 7.5% between repeats" in note for note in report.build(run_a).caveats)


def test_a_run_directory_missing_files_or_of_another_schema_is_one_clear_error(run_a, tmp_path):
    (run_a / "run.json").unlink()
    with pytest.raises(results.ResultsError, match="not a run directory"):
        report.build(run_a)
    other = tmp_path / "other"
    shutil.copytree(FIXTURES / "run_b", other)
    data = json.loads((other / "run.json").read_text())
    data["schema_version"] = 0
    (other / "run.json").write_text(json.dumps(data))
    with pytest.raises(results.ResultsError, match="schema version 0"):
        report.build(other)
