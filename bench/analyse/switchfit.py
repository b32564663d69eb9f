"""The end-to-end switch cost: server CPU per request against switches per request.

Model, fitted by ordinary least squares over every successful repeat:

    cpu_ms = fixed[server, endpoint, users]
             + b_s2a * sync_to_async + b_a2s * async_to_sync (warm)
             + b_new * async_to_sync on a new event loop

Each (server, endpoint, user count) has its own fixed cost, so the slopes are
what one more switch costs whatever the server. Warm and new-loop
async_to_sync are separate regressors because they do different work. The
confidence intervals are the usual t intervals of OLS; the residuals are kept
per point and the worst are reported, so a poor fit is visible, not hidden.
"""

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import stats as scipy_stats

from bench.analyse.groups import documents, figure
from bench.results.records import CellDocument, RepeatRecord, SwitchFigures

SLOPES = ("sync_to_async", "async_to_sync_warm", "async_to_sync_new_loop")
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Point:
    cell_id: str
    repeat: int
    group: str  # "<server>/<endpoint>/u<users>": the fixed-cost group
    cpu_ms: float
    sync_to_async: float
    async_to_sync_warm: float
    async_to_sync_new_loop: float
    loadgen_bound: bool = False


@dataclass
class Residual:
    """One point against the fit: the worst are reported, so a poor fit shows."""

    cell_id: str
    repeat: int
    cpu_ms: float
    fitted_ms: float
    residual_ms: float
    residual_pct: float | None
    outlier: bool


@dataclass
class HopWall:
    """The accounting's own wall time of one kind of hop, weighted by hops."""

    mean_us: float
    sd_us: float
    cells: int


@dataclass
class Fit:
    n: int
    slopes_us: dict[str, dict[str, float | None]] = field(default_factory=dict)
    fixed_ms: dict[str, float] = field(default_factory=dict)
    r_squared: float | None = None
    residual_sd_ms: float | None = None
    residuals: list[Residual] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def counted(repeat: RepeatRecord) -> SwitchFigures | None:
    """A successful repeat's switch counts; None where it has none."""
    switches = repeat.switches
    return switches if repeat.ok and switches is not None and switches.keys() else None


def points_from_cells(cells: Iterable[CellDocument | dict[str, Any]]) -> list[Point]:
    """One point per successful repeat that has switch counts."""
    points = []
    for cell in documents(cells):
        identity = cell.cell
        for repeat in cell.repeats:
            switches = counted(repeat)
            cpu = figure(repeat, ("server", "cpu_ms_per_request"))
            if switches is None or cpu is None:
                continue
            a2s = switches.async_to_sync_per_request or 0.0
            new_loop = switches.async_to_sync_new_loop_per_request or 0.0
            points.append(
                Point(
                    cell_id=cell.id,
                    repeat=repeat.repeat,
                    group=f"{identity.server}/{identity.endpoint}/u{identity.users}",
                    cpu_ms=cpu,
                    sync_to_async=switches.sync_to_async_per_request or 0.0,
                    async_to_sync_warm=max(a2s - new_loop, 0.0),
                    async_to_sync_new_loop=new_loop,
                    loadgen_bound=bool(figure(repeat, ("loadgen", "bound"))),
                )
            )
    return points


def fit(points: list[Point]) -> Fit:
    """OLS with a fixed cost per group and one slope per kind of switch."""
    if not points:
        return Fit(n=0, note="no points with switch counts")
    groups = sorted({point.group for point in points})
    slopes = [name for name in SLOPES if any(getattr(p, name) > 0.05 for p in points)]
    dropped = [name for name in SLOPES if name not in slopes]
    columns = [[1.0 if p.group == g else 0.0 for g in groups] for p in points]
    design = np.array(
        [
            row + [getattr(p, name) for name in slopes]
            for row, p in zip(columns, points, strict=True)
        ]
    )
    y = np.array([p.cpu_ms for p in points])
    n, k = design.shape
    if n <= k or np.linalg.matrix_rank(design) < k:
        return Fit(n=n, dropped=dropped, note=f"{n} points cannot identify {k} parameters")
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    fitted = design @ beta
    residual = y - fitted
    dof = n - k
    sigma2 = float(residual @ residual) / dof
    covariance = sigma2 * np.linalg.inv(design.T @ design)
    se = np.sqrt(np.diag(covariance))
    t = float(scipy_stats.t.ppf(0.5 + CONFIDENCE / 2, dof))
    total = float(((y - y.mean()) ** 2).sum())
    result = Fit(
        n=n,
        r_squared=1 - float(residual @ residual) / total if total else None,
        residual_sd_ms=sigma2**0.5,
        dropped=dropped,
    )
    for index, group in enumerate(groups):
        result.fixed_ms[group] = float(beta[index])
    for offset, name in enumerate(slopes):
        index = len(groups) + offset
        value, error = float(beta[index]) * 1000, float(se[index]) * 1000
        result.slopes_us[name] = {
            "us_per_switch": value,
            "stderr_us": error,
            "ci_low_us": value - t * error,
            "ci_high_us": value + t * error,
        }
    order = np.argsort(-np.abs(residual))
    result.residuals = [
        Residual(
            cell_id=points[i].cell_id,
            repeat=points[i].repeat,
            cpu_ms=float(y[i]),
            fitted_ms=float(fitted[i]),
            residual_ms=float(residual[i]),
            residual_pct=float(residual[i] / y[i] * 100) if y[i] else None,
            outlier=bool(abs(residual[i]) > 2 * sigma2**0.5),
        )
        for i in order
    ]
    return result


def accounting_wall_us(
    cells: Iterable[CellDocument | dict[str, Any]], max_users: int = 1
) -> dict[str, HopWall | None]:
    """The accounting's own timing of each hop (wall time outside the wrapped
    function), weighted by hops, over cells light enough that no queueing hides
    in it (``max_users``)."""
    totals: dict[str, list[float]] = {"sync_to_async": [], "async_to_sync": []}
    weights: dict[str, list[float]] = {"sync_to_async": [], "async_to_sync": []}
    for cell in documents(cells):
        if cell.cell.users > max_users:
            continue
        for repeat in cell.repeats:
            switches = counted(repeat)
            if switches is None:
                continue
            for kind in totals:
                value = getattr(switches, f"{kind}_wall_outside_us")
                hops = getattr(switches, kind) or 0
                if value is not None and hops:
                    totals[kind].append(value)
                    weights[kind].append(hops)
    summary: dict[str, HopWall | None] = {}
    for kind in totals:
        if totals[kind]:
            values, w = np.array(totals[kind]), np.array(weights[kind], dtype=float)
            mean = float(np.average(values, weights=w))
            spread = float(np.sqrt(np.average((values - mean) ** 2, weights=w)))
            summary[kind] = HopWall(mean_us=mean, sd_us=spread, cells=len(values))
        else:
            summary[kind] = None
    return summary
