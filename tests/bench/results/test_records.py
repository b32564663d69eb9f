"""The typed records read every committed run and write it back byte for byte."""

import json
from pathlib import Path

import pytest

from bench import ROOT
from bench.plan.matrix import Cell
from bench.results import store as results
from bench.results.records import (
    CellDocument,
    DbFigures,
    RepeatRecord,
    RunDocument,
    ServerFigures,
    Spread,
    ceiling_from_json,
)

RUN_ROOTS = (ROOT / "tests" / "fixtures" / "runs", ROOT / "docs" / "runs")
RUN_FILES = sorted(path for root in RUN_ROOTS for path in root.glob("*/run.json"))
CELL_FILES = sorted(path for root in RUN_ROOTS for path in root.glob("*/cells/*.json"))


def _text(data: object) -> str:
    # json.dumps keeps key order, which == between dicts ignores.
    return json.dumps(data, indent=1, default=str)


def test_the_committed_runs_are_there_to_check():
    assert len(RUN_FILES) >= 10 and len(CELL_FILES) >= 150


@pytest.mark.parametrize("path", CELL_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_committed_cell_reads_back_byte_identical(path: Path):
    data = json.loads(path.read_text())
    document = CellDocument.from_json(data)
    assert _text(document.to_json()) == _text(data)
    assert document.id == data["cell"]["id"]
    assert all(isinstance(repeat, RepeatRecord) for repeat in document.repeats)


@pytest.mark.parametrize("path", RUN_FILES, ids=lambda p: p.parent.name)
def test_every_committed_run_document_reads_back_byte_identical(path: Path):
    data = json.loads(path.read_text())
    document = RunDocument.from_json(data)
    assert _text(document.to_json()) == _text(data)
    assert [cell.id for cell in document.matrix.cells] == [c["id"] for c in data["matrix"]["cells"]]


def test_the_median_accessor_reads_the_summary():
    path = next(p for p in CELL_FILES if "json.json.uvicorn.async" in p.name)
    data = json.loads(path.read_text())
    document = CellDocument.from_json(data)
    assert document.median("throughput_rps") == data["summary"]["throughput_rps"]["median"]
    assert document.median("no_such_metric") is None
    assert [r.repeat for r in document.ok_repeats] == [
        r["repeat"] for r in data["repeats"] if r["status"] == "ok"
    ]


def test_unknown_keys_are_kept_where_they_were():
    data = {"n": 3, "someday": [1], "median": 2.0}
    spread = Spread.from_json(data)
    assert spread.median == 2.0 and spread.json_extra == {"someday": [1]}
    assert list(spread.to_json()) == ["n", "someday", "median"]


def test_a_failed_repeat_has_its_four_keys_and_what_was_added():
    record = RepeatRecord.failed("boom", started_at="t", raw_dir="r", errors={"x": 1})
    record.repeat = 2
    assert list(record.to_json()) == [
        "status",
        "reason",
        "started_at",
        "raw_dir",
        "errors",
        "repeat",
    ]
    assert record.to_json()["status"] == "failed" and not record.ok


def test_a_field_set_after_reading_becomes_a_key_at_the_end():
    record = RepeatRecord.from_json({"status": "skipped", "reason": "x", "started_at": None})
    assert not record.has("repeat")
    record.repeat = 4
    record.status = "ok"  # already a key: stays where it was
    assert list(record.to_json()) == ["status", "reason", "started_at", "repeat"]


def test_a_record_built_in_code_writes_every_field_in_order():
    db = DbFigures(connections_peak=3, connections_mean=2.5, json_keys=DbFigures.CONNECTIONS)
    assert db.to_json() == {"connections_peak": 3, "connections_mean": 2.5}
    assert list(DbFigures(cpu_s=1.0).to_json())[:3] == [
        "connections_peak",
        "connections_mean",
        "cpu_s",
    ]


def test_an_archive_drops_the_sampled_series_only():
    server = ServerFigures.from_json({"cpu_s": 1.0, "rss_timeline_mb": [[0, 1]], "threads_peak": 4})
    assert server.without(*ServerFigures.SAMPLED).to_json() == {"cpu_s": 1.0, "threads_peak": 4}
    assert server.rss_timeline_mb == [[0, 1]]  # the original is untouched


def test_a_cell_from_an_older_run_keeps_its_keys():
    old = {
        "id": "json.json.uvicorn.async.none.u32",
        "scenario": "json",
        "endpoint": "json",
        "server": "uvicorn",
        "style": "async",
        "stack": "none",
        "users": 32,
        "db_mode": "",
    }
    document = CellDocument.from_json({"schema_version": 1, "cell": old, "repeats": []})
    assert document.cell == Cell("json", "json", "uvicorn", "async", "none", 32)
    assert document.to_json()["cell"] == old


def test_ceilings_are_told_apart_by_their_open_loop_key():
    closed = ceiling_from_json(
        {"users": 32, "keep_alive": True, "status": "ok", "ceiling_rps": 9.0}
    )
    check = ceiling_from_json({"rate": 100, "open_loop": True, "status": "ok", "kept": True})
    assert not closed.open_loop and check.open_loop
    assert closed.valid  # a calibration that does not say is not doubted


def test_a_run_read_from_disk_gives_typed_documents():
    run = results.read_run(RUN_FILES[0].parent)
    assert isinstance(run.document, RunDocument)
    assert run.document.label == run.label
    assert set(run.documents) == set(run.cells)
    for cell_id, document in run.documents.items():
        assert document.id == cell_id


def _current_cells() -> list[Path]:
    """The cells written by this harness's shape of summary (older runs lack metrics)."""
    found = []
    for path in CELL_FILES:
        data = json.loads(path.read_text())
        if list(data["summary"]) == list(results.SUMMARY_METRICS):
            found.append(path)
    return found


def test_a_cell_document_made_from_records_is_the_one_on_disk():
    """cell_record (the run's writer) recomputes status, bound repeats and the
    summary from the repeats: every current committed cell comes out as stored."""
    paths = _current_cells()
    assert len(paths) > 100
    for path in paths:
        data = json.loads(path.read_text())
        read = CellDocument.from_json(data)
        made = results.cell_record(read.cell, read.repeats, read.planned_repeats)
        assert _text(made.to_json()) == _text(data), path


def test_a_cells_values_are_the_ones_its_summary_is_made_of():
    for path in _current_cells()[:40]:
        data = json.loads(path.read_text())
        document = CellDocument.from_json(data)
        for metric, keys in results.SUMMARY_METRICS.items():
            found = [results.dig(r, keys) for r in data["repeats"] if r["status"] == "ok"]
            expected = [float(value) for value in found if value is not None]
            assert document.values(metric) == expected, (path, metric)


def test_a_cross_check_writes_calibration_jsons_keys_in_order():
    from bench.results.records import CrossCheck

    check = CrossCheck(server="uvicorn", endpoint="/sync/json", connections=8, wrk_rps=10.0)
    assert list(check.to_json()) == [
        "server", "endpoint", "connections", "duration_s", "locust_rps", "locust_cpu_percent",
        "locust_bound", "wrk_rps", "locust_over_wrk", "within_10_percent",
    ]  # fmt: skip
    text = json.dumps(check.to_json())
    assert json.dumps(CrossCheck.from_json(json.loads(text)).to_json()) == text


def test_every_threads_switches_round_trip_and_give_a_cells_median():
    """A repeat with the kernel's figures reads back to the same JSON, and a
    cell's median of them comes from its repeats (its summary has none)."""
    from bench.results.records import SchedFigures

    repeats = []
    for index, share in enumerate((3.0, 5.0, 4.0)):
        server = {"cpu_ms_per_request": 1.0, "sched": {"ctx_per_request": share}}
        repeats.append({"status": "ok", "repeat": index + 1, "server": server})
    data = {"cell": None, "status": "ok", "repeats": repeats}
    document = CellDocument.from_json(data)
    assert isinstance(document.repeats[0].server.sched, SchedFigures)
    assert json.dumps(document.to_json()) == json.dumps(data)
    assert document.median("ctx_per_request") == 4.0
    assert document.median("migrations_per_request") is None
