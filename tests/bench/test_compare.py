"""bench compare on the committed fixture runs."""

import json
import shutil
from pathlib import Path

import pytest

from bench import compare, results
from bench.errors import BenchError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "runs"


@pytest.fixture
def runs(tmp_path) -> tuple[Path, Path]:
    for name in ("run_a", "run_b"):
        shutil.copytree(FIXTURES / name, tmp_path / name)
    return tmp_path / "run_a", tmp_path / "run_b"


def test_ratios_per_shared_cell_with_significance(runs, tmp_path):
    out, text = compare.execute(*runs, force=False, results_root=tmp_path / "results")
    data = json.loads((out / "compare.json").read_text())
    rows = {row["cell"]: row for row in data["rows"]}
    faster = rows["json.json.uvicorn.async.none.u32"]["metrics"]
    assert faster["throughput"]["ratio"] == pytest.approx(1.25)
    assert faster["throughput"]["significant"] is True
    assert faster["CPU/request"]["ratio"] == pytest.approx(0.8)
    same = rows["json.json.gunicorn-gthread.sync.none.u32"]["metrics"]["throughput"]
    assert same["ratio"] == pytest.approx(1.0) and same["verdict"] == "not significant"
    assert "| `json.json.gunicorn-gthread.sync.none.u32` | x1.000 (not significant) |" in text
    assert (
        "| `json.json.uvicorn.async.none.u32` | x1.250 | x1.000 (not significant) | x0.800 |"
        in text
    )
    assert "(loadgen-bound)" in text
    assert data["only_in_a"] == ["db.queries.uvicorn.async.none.u32.sqlite"]
    assert (out / "charts" / "comparison.png").exists()
    assert (out / "compare.md").read_text() == text


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
