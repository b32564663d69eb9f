"""The report of a run, built from small committed fixture runs."""

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from bench.report import build as report
from bench.report import caveats
from bench.report.charts import common
from bench.results import store as results
from bench.results.records import CellDocument, RepeatRecord

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "runs"
ROOT_RUNS = Path(__file__).resolve().parents[3] / "docs" / "runs"


@pytest.fixture
def run_a(tmp_path) -> Path:
    target = tmp_path / "run_a"
    shutil.copytree(FIXTURES / "run_a", target)
    return target


def test_the_report_has_every_chart_and_both_documents(run_a):
    built = report.build(run_a)
    assert set(built.charts) == {
        "Verdict ratios",
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
    # the forest plot comes right after the answer, before the environment, once
    answer, rest = markdown.split("## Environment")
    assert "![Verdict ratios](charts/verdicts.png)" in answer.split("## The answer")[1]
    assert "Verdict ratios" not in rest


def test_verdicts_pair_asgi_async_with_wsgi_sync(run_a):
    built = report.build(run_a, charts=False)
    (migration, rewrite) = built.verdicts["json"]
    assert migration.question == "ASGI + async vs WSGI + sync"
    assert migration.candidate == "json.json.uvicorn.async.none.u32"
    assert migration.baseline == "json.json.gunicorn-gthread.sync.none.u32"
    throughput = migration.metrics["throughput"]
    # Geometric means of the repeats, not medians (1100 / 3000 would be 0.3667).
    assert throughput.ratio == pytest.approx(
        geometric_mean([1100, 1110, 1090]) / geometric_mean([3000, 3050, 2990])
    )
    assert throughput.ci_low < throughput.ratio < throughput.ci_high < 1
    assert throughput.significant and throughput.p_holm >= throughput.p_value
    assert migration.metrics["CPU/request"].ratio == pytest.approx(
        geometric_mean([0.88, 0.875, 0.89]) / geometric_mean([0.33, 0.325, 0.333])
    )
    # The fixture's p99s repeat one value exactly: nothing to estimate the noise from.
    p99 = migration.metrics["p99"]
    assert p99.verdict == "not tested (no spread between repeats)" and p99.p_value is None
    assert rewrite.question == "async vs sync views, same ASGI server"
    assert rewrite.baseline == "json.json.uvicorn.sync.none.u32"
    io_rows = built.verdicts["io"]
    assert {row.candidate for row in io_rows} == {
        "io.io50.uvicorn.async.none.u10",
        "io.io50.uvicorn.async.none.u200",
    }
    assert "db" not in built.verdicts  # its only cell failed
    markdown = (run_a / "report.md").read_text()
    assert "ASGI + async vs WSGI + sync (`json.json.uvicorn.async.none.u32` vs" in markdown
    assert (
        "throughput x0.37 [0.36, 0.37], p99 x1.33 (not tested: no spread between repeats), "
        "CPU/request x2.68 [2.61, 2.75]" in markdown
    )
    assert "not significant" not in markdown.split("## Caveats")[0].split("**json**")[1]
    assert "Holm" in markdown.split("**json**")[0]


def geometric_mean(values: list[float]) -> float:
    return math.exp(float(np.mean(np.log(values))))


def test_the_caveats_say_the_intervals_are_unadjusted(run_a):
    text = "\n".join(report.build(run_a, charts=False).caveats)
    assert "Verdict intervals are unadjusted 95% intervals" in text
    assert "after Holm's correction across all 6 tested ratios" in text


def set_sample_count(run: Path, cell_id: str, count: int) -> None:
    path = run / "cells" / f"{cell_id}.json"
    cell = json.loads(path.read_text())
    for repeat in cell["repeats"]:
        repeat["latency_ms"]["count"] = count
    path.write_text(json.dumps(cell))


def cells_row(markdown: str, cell_id: str) -> str:
    return next(line for line in markdown.splitlines() if line.startswith(f"| `{cell_id}`"))


def test_a_p99_9_from_600_samples_is_too_few_from_10000_a_number(run_a):
    cell_id = "json.json.uvicorn.async.none.u32"
    set_sample_count(run_a, cell_id, 600)
    built = report.build(run_a, charts=False)
    row = cells_row((run_a / "report.md").read_text(), cell_id)
    # p50 (needs 20) is shown; p99 (1,000) and p99.9 (10,000) are not
    assert "| 28.00 | too few samples | too few samples | 0.880 |" in row
    html = (run_a / "report.html").read_text()
    assert html.count('<td class="num">too few samples</td>') >= 2
    assert any("p99 needs 1,000, p99.9 needs 10,000" in note for note in built.caveats)
    (migration, _) = built.verdicts["json"]
    assert migration.metrics["p99"].verdict == "not tested (too few samples)"
    assert "p99 not tested (too few samples)" in (run_a / "report.md").read_text()
    # the raw figure is never thrown away
    cell = json.loads((run_a / "cells" / f"{cell_id}.json").read_text())
    assert cell["summary"]["p99_9_ms"]["median"] == 52.0
    # the latency chart draws no marker for it, but does for p50
    document = CellDocument.from_json(cell)
    assert common.percentile_median(document, "p99_9") is None
    assert common.percentile_median(document, "p50") == 28.0

    set_sample_count(run_a, cell_id, 10_000)
    report.build(run_a, charts=False)
    row = cells_row((run_a / "report.md").read_text(), cell_id)
    assert "| 28.00 | 40.00 | 52.00 | 0.880 |" in row


def test_caveats_name_bound_failed_and_partial(run_a):
    built = report.build(run_a, charts=False)
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
    built = report.build(run_a, charts=False)
    # said once among the caveats, with the count of noisy cells; per cell below the table
    (line,) = [note for note in built.caveats if note.startswith("Repeats disagree")]
    # run_a's 8 measured cells spread 0% to 2.5%, and this one now 7.5%
    assert "throughput varies 0-8% between repeats across 8 cells (above 5% in 1)" in line
    assert not any("varies 7.5%" in note for note in built.caveats)
    assert "json.json.uvicorn.sync.none.u32: throughput_rps varies 7.5% between repeats" in (
        "\n".join(built.cell_notes)
    )
    assert "## Cell notes" in (run_a / "report.md").read_text()


def test_a_run_directory_missing_files_or_of_another_schema_is_one_clear_error(run_a, tmp_path):
    (run_a / "run.json").unlink()
    with pytest.raises(results.ResultsError, match="not a run directory"):
        report.build(run_a, charts=False)
    other = tmp_path / "other"
    shutil.copytree(FIXTURES / "run_b", other)
    data = json.loads((other / "run.json").read_text())
    data["schema_version"] = 0
    (other / "run.json").write_text(json.dumps(data))
    with pytest.raises(results.ResultsError, match="schema version 0"):
        report.build(other)


def test_a_window_that_started_with_no_completions_is_flagged_without_a_ratio():
    """A stalled start (long-poll bursts, a stream that had not begun) has no
    first-third rate to divide by: the flag says so instead of failing."""
    stalled = {"status": "ok", "repeat": 2, "steady": {
        "first_rps": 0.0, "last_rps": 40.0, "change_pct": None, "steady": False,
    }}  # fmt: skip
    moving = {"status": "ok", "repeat": 3, "steady": {"change_pct": 12.4, "steady": False}}
    repeats = [RepeatRecord.from_json(stalled), RepeatRecord.from_json(moving)]
    ((kind, note),) = caveats.repeat_flags("held.sse.x", repeats)
    assert kind == "unsteady"
    assert "(r2 from none to 40/s, r3 +12%)" in note


def test_the_stopping_rule_is_said_once_with_each_verdict_s_pairs():
    from bench.report import contents

    report = contents.read(ROOT_RUNS / "20261202T154021Z-bench")
    (line,) = [c for c in report.caveats if c.startswith("Stopping rule:")]
    assert "+-5% on every paired verdict within 15 min, at least 5 pairs" in line
    assert "it added 8 passes and stopped because the budget would have been overrun" in line
    assert line.count("13 pairs") == 3 and "widest +-33.0%, not met" in line
    assert any('verdicts marked "paired"' in c for c in report.caveats)
