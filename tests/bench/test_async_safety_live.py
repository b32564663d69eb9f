"""The async-safety scenario through the real harness: a view that calls the
sync ORM from async code fails its cell, and says why, without a traceback."""

import json

import pytest
from helpers.harness import assert_all_gone, descendants_while_running, harness, only_run

pytestmark = pytest.mark.live

CELL = "async-safety.orm-unsafe.uvicorn.async.none.u8.sqlite"


def test_the_unsafe_view_fails_its_cell_naming_synchronous_only_operation(tmp_path):
    proc = harness(
        "run", "--scenario", "async-safety", "--no-calibrate", "--repeats", "1",
        "--duration", "2", "--warmup", "0.5", "--results", str(tmp_path),
    )  # fmt: skip
    pids = descendants_while_running(proc)
    output, _ = proc.communicate(timeout=120)
    assert_all_gone(pids)
    assert proc.returncode == 1, output
    assert "Traceback" not in output  # the harness reports; it does not crash
    run_dir = only_run(tmp_path)
    assert json.loads((run_dir / "run.json").read_text())["status"] == "partial"
    cell = json.loads((run_dir / "cells" / f"{CELL}.json").read_text())
    assert cell["status"] == "failed"
    (repeat,) = cell["repeats"]
    assert repeat["status"] == "failed"
    first_line = repeat["reason"].splitlines()[0]
    assert "answered HTTP 500" in first_line
    assert "SynchronousOnlyOperation" in first_line
    assert "throughput_rps" not in repeat  # the primer stopped it before any load
    # The report lists the cell as failed, with no figure, and says why.
    report = (run_dir / "report.md").read_text()
    row = next(line for line in report.splitlines() if line.startswith(f"| `{CELL}`"))
    cells = [part.strip() for part in row.strip("|").split("|")]
    assert cells[1] == "failed" and set(cells[2:]) == {"-"}
    assert f"{CELL}: failed, no figure shown (" in report
    caveat = next(line for line in report.splitlines() if f"{CELL}: failed" in line)
    assert "SynchronousOnlyOperation" in caveat
    assert f"FAILED: {first_line}" in output
