import json
import os
from pathlib import Path

import pytest

from bench.plan.matrix import Cell
from bench.results import store as results
from bench.results.records import RepeatRecord


def test_run_directories_are_never_overwritten(tmp_path):
    first = results.create_run_dir(tmp_path, "my label!")
    second = results.create_run_dir(tmp_path, "my label!")
    assert first != second
    assert first.name.endswith("-my-label") and second.name.endswith("-my-label-2")
    assert (first / "cells").is_dir() and (first / "raw").is_dir()


def test_a_file_where_the_results_must_go_is_named(tmp_path):
    blocker = tmp_path / "results"
    blocker.write_text("not a directory")
    with pytest.raises(results.ResultsError, match=f"{blocker} exists and is not a directory"):
        results.create_run_dir(blocker, "x")


def test_latest_points_at_the_newest_run(tmp_path):
    first = results.create_run_dir(tmp_path, "a")
    results.point_latest(tmp_path, first)
    second = results.create_run_dir(tmp_path, "b")
    results.point_latest(tmp_path, second)
    results.write_json(second / "run.json", {"schema_version": results.SCHEMA_VERSION})
    assert os.readlink(tmp_path / "latest") == second.name
    assert results.resolve_run_dir(tmp_path / "latest") == second.resolve()


def _write_run(run_dir, cells):
    results.write_json(
        run_dir / "run.json",
        {"schema_version": results.SCHEMA_VERSION, "label": "t", "status": "complete"},
    )
    for cell_id, repeats in cells.items():
        results.write_json(
            results.cell_path(run_dir, cell_id),
            results.cell_record(
                Cell.from_json(
                    {
                        "id": cell_id,
                        "scenario": "json",
                        "endpoint": "json",
                        "server": "uvicorn",
                        "style": "async",
                        "stack": "none",
                        "users": 32,
                    }
                ),
                [RepeatRecord.from_json(repeat) for repeat in repeats],
                planned=3,
            ).to_json(),
        )


def _repeat(number, rps, cpu, status="ok", bound=False):
    return {
        "repeat": number,
        "status": status,
        "throughput_rps": rps,
        "server": {"cpu_ms_per_request": cpu},
        "latency_ms": {"p99": 2.0},
        "loadgen": {"bound": bound, "cpu_percent": 50.0},
    }


def test_write_then_read_back(tmp_path):
    run_dir = results.create_run_dir(tmp_path, "t")
    repeats = [_repeat(1, 100.0, 1.0), _repeat(2, 110.0, 1.1, bound=True), _repeat(3, 90.0, 0.9)]
    _write_run(run_dir, {"json.json.uvicorn.async.none.u32": repeats})
    run = results.read_run(run_dir)
    cell = run.cells["json.json.uvicorn.async.none.u32"]
    assert cell["status"] == "ok"
    assert cell["loadgen_bound"] is True and cell["loadgen_bound_repeats"] == [2]
    assert cell["summary"]["throughput_rps"]["median"] == 100.0
    assert cell["summary"]["cpu_ms_per_request"]["spread_pct"] == pytest.approx(20.0)
    assert cell["repeats"] == repeats  # raw values kept, not only the summary


def test_cell_status_from_repeats():
    ok, bad = "ok", "failed"
    assert results.status_of([ok, ok], 2) == "ok"
    assert results.status_of([ok, bad], 2) == "partial"
    assert results.status_of([bad, bad], 2) == "failed"
    assert results.status_of([ok, "interrupted"], 3) == "interrupted"
    assert results.status_of([ok], 3) == "partial"


def test_a_wrong_schema_version_is_refused(tmp_path):
    run_dir = results.create_run_dir(tmp_path, "t")
    (run_dir / "run.json").write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(
        results.ResultsError, match="schema version 99; this harness reads version 1"
    ):
        results.read_run(run_dir)


def test_corrupt_and_missing_files_are_named(tmp_path):
    run_dir = results.create_run_dir(tmp_path, "t")
    _write_run(run_dir, {"a": [_repeat(1, 1.0, 1.0)]})
    (run_dir / "cells" / "b.json").write_text('{"schema_version": 1, "cell"')
    with pytest.raises(results.ResultsError, match=r"corrupt results file .*b\.json"):
        results.read_run(run_dir)
    with pytest.raises(results.ResultsError, match="no such run directory"):
        results.read_run(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(results.ResultsError, match="not a run directory"):
        results.read_run(tmp_path / "empty")


class _Unwritable:
    def __str__(self) -> str:
        raise TypeError("cannot be written")


def test_writes_are_atomic(tmp_path):
    path = tmp_path / "x.json"
    results.write_json(path, {"a": 1})
    with pytest.raises(TypeError):
        results.write_json(path, {"a": _Unwritable()})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def _running_run(tmp_path, identity):
    run_dir = results.create_run_dir(tmp_path, "t")
    document = {"schema_version": results.SCHEMA_VERSION, "status": "running", "harness": identity}
    results.write_json(run_dir / "run.json", document)
    return run_dir


def test_a_run_whose_harness_is_gone_is_read_as_abandoned(tmp_path):
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    identity = {**results.harness_identity().to_json(), "pid": child.pid}  # that pid has exited
    run = results.read_run(_running_run(tmp_path, identity))
    assert run.data["status"] == "abandoned"
    assert f"pid {child.pid}" in run.data["interrupted_reason"]


def test_a_run_whose_harness_lives_stays_running(tmp_path):
    run = results.read_run(_running_run(tmp_path, results.harness_identity().to_json()))
    assert run.data["status"] == "running"


def test_a_reused_pid_or_a_restart_does_not_pass_for_the_harness(tmp_path):
    reused = {
        **results.harness_identity().to_json(),
        "create_time": 1.0,
    }  # same pid, another process
    assert results.read_run(_running_run(tmp_path, reused)).data["status"] == "abandoned"
    rebooted = {**results.harness_identity().to_json(), "boot_id": "another-boot"}
    run = results.read_run(_running_run(tmp_path, rebooted))
    assert run.data["interrupted_reason"] == "the machine restarted while it ran"


def test_a_relative_results_root_gives_an_absolute_run_directory(tmp_path, monkeypatch):
    """Servers of a user's site run in the site's directory: a relative path to
    the run's counter files would point there, not here."""
    monkeypatch.chdir(tmp_path)
    run_dir = results.create_run_dir(Path("results") / "site", "site")
    assert run_dir.is_absolute()
    assert run_dir.parent == tmp_path / "results" / "site"
