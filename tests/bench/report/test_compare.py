"""bench compare on the committed fixture runs."""

import json
import shutil
from pathlib import Path

import pytest

from bench.analyse import stats
from bench.errors import BenchError
from bench.report import compare
from bench.results import store as results

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "runs"


@pytest.fixture
def runs(tmp_path) -> tuple[Path, Path]:
    for name in ("run_a", "run_b"):
        shutil.copytree(FIXTURES / name, tmp_path / name)
    return tmp_path / "run_a", tmp_path / "run_b"


def test_ratios_per_shared_cell_with_interval_and_significance(runs, tmp_path):
    out, text = compare.execute(*runs, force=False, results_root=tmp_path / "results")
    data = json.loads((out / "compare.json").read_text())
    rows = {row["cell"]: row for row in data["rows"]}
    faster = rows["json.json.uvicorn.async.none.u32"]["metrics"]
    # every repeat of B is exactly 1.25 times (and 0.8 times) its repeat in A
    assert faster["throughput"]["ratio"] == pytest.approx(1.25)
    assert faster["throughput"]["ci_low"] < 1.25 < faster["throughput"]["ci_high"]
    assert faster["throughput"]["significant"] is True
    assert faster["CPU/request"]["ratio"] == pytest.approx(0.8)
    same = rows["json.json.gunicorn-gthread.sync.none.u32"]["metrics"]["throughput"]
    assert same["ratio"] == pytest.approx(1.0) and same["verdict"] == "not significant"
    assert same["ci_low"] < 1 < same["ci_high"] and (same["n_a"], same["n_b"]) == (3, 3)
    assert (
        "| `json.json.gunicorn-gthread.sync.none.u32` | x1.000 [0.976, 1.024] (not significant) |"
        in text
    )
    assert (
        "| `json.json.uvicorn.async.none.u32` | x1.250 [1.225, 1.276] "
        "| x1.000 (not tested: no spread between repeats) | x0.800 [0.784, 0.816] |" in text
    )
    assert "(loadgen-bound)" in text
    assert data["only_in_a"] == ["db.queries.uvicorn.async.none.u32.sqlite"]
    assert (out / "charts" / "comparison.png").exists()
    assert (out / "compare.md").read_text() == text


def test_holm_runs_across_every_row_of_one_comparison(runs, tmp_path):
    out, _ = compare.execute(*runs, force=False, results_root=tmp_path / "results")
    rows = json.loads((out / "compare.json").read_text())["rows"]
    metrics = [m for row in rows for m in row["metrics"].values() if m["p_value"] is not None]
    assert len(metrics) > 3
    assert [m["p_holm"] for m in metrics] == pytest.approx(
        stats.holm([m["p_value"] for m in metrics])
    )
    assert all(m["significant"] == (m["p_holm"] < 0.05) for m in metrics)


def edit_cell(run: Path, cell_id: str, change) -> None:
    path = run / "cells" / f"{cell_id}.json"
    cell = json.loads(path.read_text())
    change(cell)
    path.write_text(json.dumps(cell))


def test_one_repeat_is_not_tested_and_a_thin_p99_is_too_few_samples(runs, tmp_path):
    a, b = runs
    cell_id = "json.json.uvicorn.async.none.u32"

    def one_repeat(cell: dict) -> None:
        cell["repeats"] = cell["repeats"][:1]

    def thin(cell: dict) -> None:
        for repeat in cell["repeats"]:
            repeat["latency_ms"]["count"] = 600

    edit_cell(b, cell_id, one_repeat)
    edit_cell(a, cell_id, thin)
    out, text = compare.execute(a, b, force=False, results_root=tmp_path / "results")
    row = next(line for line in text.splitlines() if line.startswith(f"| `{cell_id}`"))
    assert row == (
        f"| `{cell_id}` | x1.250 (not tested: 1 repeat) | not tested (too few samples) "
        "| x0.799 (not tested: 1 repeat) |"
    )
    assert "not significant" not in row
    p99 = next(
        r for r in json.loads((out / "compare.json").read_text())["rows"] if r["cell"] == cell_id
    )["metrics"]["p99"]
    assert p99["ratio"] is None and p99["a"] == [40.0, 40.0, 40.0] and p99["b"] == [40.0]


def test_different_scenario_definitions_are_refused_unless_forced(runs, tmp_path):
    a, b = runs
    data = json.loads((b / "run.json").read_text())
    data["matrix"]["scenarios"]["json"]["sha256"] = "b" * 64
    (b / "run.json").write_text(json.dumps(data))
    with pytest.raises(BenchError, match="different definitions of scenario\\(s\\) json"):
        compare.execute(a, b, force=False, results_root=tmp_path / "results")
    _, text = compare.execute(a, b, force=True, results_root=tmp_path / "results")
    assert "scenario definitions differ (forced): json" in text


def test_a_different_environment_is_a_warning_above_the_table(runs, tmp_path):
    a, b = runs
    data = json.loads((b / "run.json").read_text())
    data["metadata"]["packages"]["django"] = "6.0.4"
    data["metadata"]["machine"]["cpu_model"] = "Other CPU"
    (b / "run.json").write_text(json.dumps(data))
    _, text = compare.execute(a, b, force=False, results_root=tmp_path / "results")
    warnings = text.split("| cell |")[0]
    assert "django: 6.1.3 -> 6.0.4" in warnings and "CPU model: AMD EPYC -> Other CPU" in warnings


def test_unreadable_runs_are_one_clear_error(runs, tmp_path):
    a, b = runs
    (a / "cells" / "json.json.uvicorn.async.none.u32.json").write_text("{not json")
    with pytest.raises(results.ResultsError, match="corrupt results file"):
        compare.execute(a, b, force=False, results_root=tmp_path / "results")
