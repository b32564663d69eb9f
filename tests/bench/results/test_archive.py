"""A run's committed summary keeps every figure and drops only sampled series."""

import json
import re
import shutil
from pathlib import Path

import pytest

from bench.errors import BenchError
from bench.results import archive
from bench.results import store as results

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "runs"


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    copy = tmp_path / "results" / "20261202T000000Z-bench"
    shutil.copytree(FIXTURES / "run_a", copy)
    (copy / "report.md").write_text("# report\n")
    (copy / "raw").mkdir()
    (copy / "raw" / "samples.bin").write_bytes(b"\0" * 4096)
    cell = next((copy / "cells").glob("*.json"))
    data = json.loads(cell.read_text())
    data["repeats"][0]["server"]["rss_timeline_mb"] = [[0.0, 40.0], [0.5, 41.0]]
    cell.write_text(json.dumps(data))
    return copy


def test_the_archive_keeps_run_cells_and_report_and_no_raw_samples(run_dir, tmp_path):
    target = archive.archive(run_dir, tmp_path / "docs" / "runs")
    assert target == tmp_path / "docs" / "runs" / run_dir.name
    assert (target / "report.md").read_text() == "# report\n"
    assert not (target / "raw").exists()
    kept, original = results.read_run(target), results.read_run(run_dir)
    assert kept.data == original.data
    assert set(kept.cells) == set(original.cells)
    for cell_id, cell in original.cells.items():
        for before, after in zip(cell["repeats"], kept.cells[cell_id]["repeats"], strict=True):
            assert "rss_timeline_mb" not in after.get("server", {})
            for key in ("rss_timeline_mb", "memory_by_process"):
                before.get("server", {}).pop(key, None)
            assert after == before
        assert kept.cells[cell_id]["summary"] == cell["summary"]


def test_archiving_again_replaces_the_old_copy(run_dir, tmp_path):
    root = tmp_path / "archive"
    target = archive.archive(run_dir, root)
    (target / "cells" / "stale.json").write_text("{}")
    archive.archive(run_dir, root)
    assert not (target / "cells" / "stale.json").exists()


def test_a_run_without_its_report_is_refused_in_one_line(run_dir, tmp_path):
    (run_dir / "report.md").unlink()
    with pytest.raises(BenchError, match=r"has no report\.md"):
        archive.archive(run_dir, tmp_path / "archive")


RUN_ID = re.compile(r"\b\d{8}T\d{6}Z-[A-Za-z0-9_.-]*[A-Za-z0-9]")


def test_every_run_the_readme_names_is_archived():
    """A README figure is traceable: each run it names is committed under
    docs/runs/ (run.json, the cells, report.md), and none is named only by its
    uncommitted results/ directory."""
    root = Path(__file__).resolve().parents[3]
    readme = (root / "README.md").read_text()
    named = set(RUN_ID.findall(readme))
    assert named, "the README names no run"
    for run_id in sorted(named):
        archived = root / "docs" / "runs" / run_id
        assert f"results/{run_id}" not in readme, f"cite docs/runs/{run_id}, not results/"
        if run_id.endswith("-cost"):  # bench cost writes one document, cost.json
            assert (archived / "cost.json").is_file(), f"{run_id} is not in docs/runs/"
            continue
        if run_id.endswith("-microbench"):  # pyperf's document and the summary of it
            assert (archived / "summary.json").is_file(), f"{run_id} is not in docs/runs/"
            continue
        assert (archived / "run.json").is_file(), f"{run_id} is not in docs/runs/"
        assert (archived / "report.md").is_file(), run_id
        assert any((archived / "cells").glob("*.json")), run_id
        assert f"results/{run_id}" not in readme, f"cite docs/runs/{run_id}, not results/"
