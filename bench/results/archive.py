"""A run's summary, small enough to commit: the figures a README cites, traceable.

``results/`` is never committed (raw samples, logs and charts run to megabytes
per run), so a figure quoted from it cannot be checked by anyone else. An
archive keeps what every figure is read from: ``run.json``, each cell's JSON
(every repeat's derived values and the summaries over repeats) and
``report.md``, under ``docs/runs/<run id>/``. What is dropped is only what the
raw samples can rebuild and no figure is quoted from: the memory timeline
sampled through the window and the per-process memory breakdown.
"""

import json
import shutil
from pathlib import Path
from typing import Any

from bench import ROOT
from bench.results.records import CellDocument, ServerFigures
from bench.results.store import ResultsError, read_json, resolve_run_dir

DEFAULT_ARCHIVE = ROOT / "docs" / "runs"
# Per repeat, under "server": sampled series, rebuilt from raw/ when needed.
BULKY_SERVER_FIELDS = ServerFigures.SAMPLED
KEPT_FILES = ("run.json", "report.md")


def slim_cell(cell: dict[str, Any]) -> dict[str, Any]:
    """A cell document without the sampled series of its repeats."""
    document = CellDocument.from_json(cell)
    for repeat in document.repeats:
        if repeat.server is not None:
            repeat.server = repeat.server.without(*BULKY_SERVER_FIELDS)
    return document.to_json()


def archive(run: Path, root: Path = DEFAULT_ARCHIVE) -> Path:
    """Copy a run's summary to ``root/<run id>/``; the directory written.

    An existing archive of the same run is replaced whole, so a rebuilt report
    never leaves a stale cell behind.
    """
    run_dir = resolve_run_dir(run)
    if not (run_dir / "report.md").exists():
        raise ResultsError(f"{run_dir} has no report.md: build it first (bench report {run})")
    target = root / run_dir.name
    if target.exists():
        shutil.rmtree(target)
    (target / "cells").mkdir(parents=True)
    for name in KEPT_FILES:
        shutil.copy2(run_dir / name, target / name)
    for path in sorted((run_dir / "cells").glob("*.json")):
        # Compact: a make bench's cells are ~40% smaller than indented, and
        # nobody reads them by eye (report.md beside them is for that).
        text = json.dumps(slim_cell(read_json(path)), separators=(",", ":"), default=str)
        (target / "cells" / path.name).write_text(text + "\n")
    return target
