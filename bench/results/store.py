"""The results schema: one directory per run, never overwritten.

``results/<UTC timestamp>-<label>/`` holds ``run.json`` (schema version, the
matrix, metadata, options, calibration, status), ``cells/<cell id>.json`` (raw
repeat values and derived summaries) and ``raw/<cell id>/r<n>/`` (logs, locust's
CSV/HTML/JSON, exact samples). Every write is atomic (a temporary file renamed
into place), and cell files are written as soon as each repeat ends, so an
interrupted run is still a readable, partial run.
"""

import functools
import json
import os
import re
import socket
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bench import ROOT
from bench.errors import BenchError
from bench.plan.matrix import Cell
from bench.results.records import (
    SUMMARY_METRICS,
    CellDocument,
    Harness,
    RepeatRecord,
    RunDocument,
    Spread,
)
from bench.results.summary import repeat_summary

SCHEMA_VERSION = 1
# In this checkout, results/ beside bench/; installed elsewhere (pip install
# into a team's virtualenv), results/ in the directory the command runs from.
DEFAULT_RESULTS = ROOT / "results" if (ROOT / "pyproject.toml").is_file() else Path("results")
RUN_STATUSES = ("running", "complete", "partial", "interrupted", "abandoned")


class ResultsError(BenchError):
    """A results directory that cannot be read or written; names the path."""


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` atomically: readers see the old file or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=1, sort_keys=False, default=str)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ResultsError(f"missing results file: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultsError(f"corrupt results file {path}: {exc}") from None


def _slug(label: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-")
    return slug or "run"


def create_run_dir(root: Path, label: str) -> Path:
    """A new run directory, checked writable before any cell runs; an absolute path.

    Absolute because the run hands directories inside it to processes that run
    elsewhere: a user's site is served from its own directory, and a relative
    counter or exception directory would land there, out of the harness's
    sight (a relative ``--results`` once lost every switch count of a site run).
    """
    root = root.absolute()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if root.exists() and not root.is_dir():
        raise ResultsError(f"cannot write results: {root} exists and is not a directory")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ResultsError(f"cannot create results directory {root}: {exc.strerror}") from None
    base = f"{stamp}-{_slug(label)}"
    for attempt in range(100):
        run_dir = root / (base if attempt == 0 else f"{base}-{attempt + 1}")
        if run_dir.exists() or run_dir.is_symlink():
            continue
        try:
            run_dir.mkdir()
            (run_dir / "cells").mkdir()
            (run_dir / "raw").mkdir()
            probe = run_dir / ".write-check"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise ResultsError(f"cannot write results in {run_dir}: {exc.strerror}") from None
        return run_dir
    raise ResultsError(f"cannot find a free run directory name under {root}")


def point_latest(root: Path, run_dir: Path) -> None:
    """Make ``root/latest`` a relative symlink to ``run_dir`` (atomically)."""
    link = root / "latest"
    if link.exists() and not link.is_symlink():
        return  # a real file or directory named latest: leave the user's data alone
    tmp = root / f".latest-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(run_dir.name)
    os.replace(tmp, link)


def dig(data: Any, keys: tuple[str, ...]) -> Any:
    """``data[k1][k2]...``, or None where a level is missing."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def status_of(statuses: list[str | None], planned: int) -> str:
    """A cell's status from its repeats': ok, partial, failed, interrupted; or
    skipped (an open-loop rate above one its configuration could not sustain:
    every repeat skipped on purpose)."""
    ok, skipped = statuses.count("ok"), statuses.count("skipped")
    if "interrupted" in statuses and ok + skipped < planned:
        return "interrupted"
    if skipped and skipped == len(statuses) == planned:
        return "skipped"
    if ok + skipped == planned and ok:
        return "ok"
    return "partial" if ok else "failed"


def cell_record(cell: Cell, repeats: list[RepeatRecord], planned: int) -> CellDocument:
    """One cell's document: its identity, raw repeats and the summary over them."""
    good = [repeat for repeat in repeats if repeat.ok]
    bound = [r.repeat for r in repeats if r.loadgen is not None and r.loadgen.bound]
    summary = {
        metric: Spread.from_json(repeat_summary([repeat.figure(keys) for repeat in good]))
        for metric, keys in SUMMARY_METRICS.items()
    }
    return CellDocument(
        schema_version=SCHEMA_VERSION,
        cell=cell,
        status=status_of([repeat.status for repeat in repeats], planned),
        planned_repeats=planned,
        loadgen_bound=bool(bound),
        loadgen_bound_repeats=bound,
        repeats=repeats,
        summary=summary,
    )


def cell_path(run_dir: Path, cell_id: str) -> Path:
    return run_dir / "cells" / f"{cell_id}.json"


@dataclass
class Run:
    """A run read back from disk: its JSON (``data``, ``cells``) and the same
    documents typed (``document``, ``documents``), read once when first asked."""

    path: Path
    data: dict[str, Any]
    cells: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return str(self.document.label) if self.document.has("label") else self.path.name

    @functools.cached_property
    def document(self) -> RunDocument:
        """run.json as a record."""
        return RunDocument.from_json(self.data)

    @functools.cached_property
    def documents(self) -> dict[str, CellDocument]:
        """Every cell's JSON as a record, by cell id."""
        return {cell_id: CellDocument.from_json(cell) for cell_id, cell in self.cells.items()}


def check_schema(data: Any, path: Path) -> None:
    if not isinstance(data, dict):
        raise ResultsError(f"corrupt results file {path}: not a JSON object")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ResultsError(
            f"{path} has schema version {version!r}; this harness reads version "
            f"{SCHEMA_VERSION} (re-run it, or read it with the harness that wrote it)"
        )


def resolve_run_dir(path: Path) -> Path:
    """A run directory, following ``latest``; one clear error when it is none."""
    if not path.exists():
        raise ResultsError(f"no such run directory: {path}")
    resolved = path.resolve()
    if not (resolved / "run.json").exists():
        raise ResultsError(f"{path} is not a run directory (no run.json)")
    return resolved


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


def harness_identity() -> Harness:
    """Who is writing this run: enough to tell later whether it is still alive."""
    me = psutil.Process()
    return Harness(
        pid=me.pid, host=socket.gethostname(), boot_id=_boot_id(), create_time=me.create_time()
    )


def harness_gone(identity: Harness | None) -> str | None:
    """Why the harness that wrote a "running" run can no longer be running, or
    None when it may be (still alive, or on another host where we cannot look)."""
    if identity is None or identity.host != socket.gethostname():
        return None
    if identity.boot_id and identity.boot_id != _boot_id():
        return "the machine restarted while it ran"
    try:
        alive = identity.has("pid") and (
            psutil.Process(identity.pid).create_time() == identity.create_time
        )
    except psutil.NoSuchProcess:
        alive = False
    return None if alive else f"its harness (pid {identity.pid}) stopped without finishing"


def read_run(path: Path) -> Run:
    """Read run.json and every cell JSON, checking the schema of each.

    A run still marked "running" whose harness is gone (killed, or the machine
    restarted) is read as "abandoned", with the reason, never as running.
    """
    run_dir = resolve_run_dir(path)
    data = read_json(run_dir / "run.json")
    check_schema(data, run_dir / "run.json")
    if data.get("status") == "running":
        gone = harness_gone(RunDocument.from_json(data).harness)
        if gone:
            data["status"] = "abandoned"
            data["interrupted_reason"] = gone
    run = Run(run_dir, data)
    for cell_file in sorted((run_dir / "cells").glob("*.json")):
        cell = read_json(cell_file)
        check_schema(cell, cell_file)
        if not isinstance(cell.get("cell"), dict) or "id" not in cell["cell"]:
            raise ResultsError(f"corrupt results file {cell_file}: no cell identity")
        run.cells[cell["cell"]["id"]] = cell
    return run
