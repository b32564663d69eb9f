"""A cost run against a baseline: which cells' instructions per request grew.

This is the check a team puts in CI (``--baseline RUN --fail-above 2``).
Instruction counts repeat to a fraction of a percent where timings move by
tens, so a limit of a few percent is a change in the code, not the host.
Cells are matched by id (scenario, endpoint or page, server, style, stack),
so a page renamed or a server added is listed as new rather than compared.
What else differs between the runs (valgrind, Python, Django, asgiref) is
listed too: a count moves when any of them does, and that is a finding
worth reading beside the figure, not a reason to refuse.
"""

from dataclasses import dataclass
from pathlib import Path

from bench.cost.records import COST_FILE, CostDocument
from bench.errors import UsageError
from bench.results import store as results
from bench.results.records.documents import Metadata

# The distributions whose code a request runs, besides the site's own.
COUNTED_PACKAGES = ("django", "asgiref", "gunicorn", "uvicorn", "uvloop", "httptools")


@dataclass(frozen=True)
class Change:
    """One cell measured in both runs."""

    cell_id: str
    path: str
    baseline: float
    now: float
    limit_percent: float | None

    @property
    def percent(self) -> float:
        return 100.0 * (self.now / self.baseline - 1.0)

    @property
    def over(self) -> bool:
        return self.limit_percent is not None and self.percent > self.limit_percent


@dataclass(frozen=True)
class GateResult:
    """The comparison of a run with its baseline."""

    baseline: str
    changes: list[Change]
    new: list[str]  # measured now, not in the baseline
    gone: list[str]  # in the baseline, not measured now
    differences: list[str]  # what else changed between the runs, one phrase each
    limit_percent: float | None

    @property
    def failed(self) -> bool:
        return any(change.over for change in self.changes)


def read_baseline(path: Path) -> CostDocument:
    """A baseline given as a cost run's directory or its cost.json; one line if neither."""
    file = path / COST_FILE if path.is_dir() else path
    if not file.is_file():
        raise UsageError(f"--baseline {path}: no {COST_FILE} there (give a cost run's directory)")
    try:
        document = CostDocument.from_json(results.read_json(file))
    except (ValueError, TypeError, KeyError, AttributeError):
        raise UsageError(f"--baseline {path}: {file.name} is not a cost run's document") from None
    if document.kind != "cost":
        raise UsageError(f"--baseline {path}: {file.name} is a {document.kind} document")
    return document


def _measured(document: CostDocument) -> dict[str, tuple[str, float]]:
    """label -> (path, instructions per request): a cell and its release."""
    found = {}
    for cost in document.cells:
        value = cost.instructions_per_request
        if cost.cell is not None and value is not None and value > 0:
            found[cost.label] = (cost.path, value)
    return found


def _versions(document: CostDocument) -> dict[str, str]:
    """What a count depends on besides the code measured, as recorded in the run."""
    found: dict[str, str] = {}
    if document.valgrind is not None:
        found["valgrind"] = document.valgrind.version
    metadata = Metadata.from_json(document.metadata or {})
    if metadata.python:
        found["Python"] = metadata.python
    for name, version in metadata.packages.items():
        if name.lower() in COUNTED_PACKAGES and version:
            found[name.lower()] = version
    return found


def compare(
    now: CostDocument, baseline: CostDocument, baseline_name: str, limit: float | None
) -> GateResult:
    """Each cell of ``now`` against the same cell of ``baseline``."""
    current, before = _measured(now), _measured(baseline)
    changes = [
        Change(cell_id, path, before[cell_id][1], value, limit)
        for cell_id, (path, value) in current.items()
        if cell_id in before
    ]
    versions_now, versions_before = _versions(now), _versions(baseline)
    differences = [
        f"{name} {versions_before.get(name, '?')} -> {versions_now.get(name, '?')}"
        for name in sorted(set(versions_now) | set(versions_before))
        if versions_now.get(name) != versions_before.get(name)
    ]
    return GateResult(
        baseline=baseline_name,
        changes=changes,
        new=[cell_id for cell_id in current if cell_id not in before],
        gone=[cell_id for cell_id in before if cell_id not in current],
        differences=differences,
        limit_percent=limit,
    )
