"""The switch-cost result: three independent figures side by side.

1. the microbenchmark of the adapters alone (``bench microbench``: wall and
   CPU time per switch, in-process, idle machine);
2. the switch accounting inside real requests (wall time of each hop outside
   the wrapped function, from one-user cells where nothing queues);
3. the end-to-end fit of server CPU per request against switches per request
   (``bench.analyse.switchfit``).

Django's documentation puts a switch at "around a millisecond"; that claim
is printed next to the measured figures.
"""

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

from bench.analyse import switchfit
from bench.numbers import fmt
from bench.report.charts.switches import switch_fit
from bench.results import store as results
from bench.results.records import CellDocument
from bench.results.records.microbench import MicrobenchSummary, Timing

DOCS_CLAIM_US = 1000.0
DOCS_CLAIM = 'Django docs: a sync/async switch costs "around a millisecond"'
# kind -> (the microbenchmark's per-switch figure, the accounting's hop kind, the fit's slope)
KINDS = {
    "sync_to_async": (
        "sync_to_async, warm context, thread_sensitive=True",
        "sync_to_async",
        "sync_to_async",
    ),
    "async_to_sync (warm)": (
        "async_to_sync under an outer async_to_sync (warm)",
        "async_to_sync",
        "async_to_sync_warm",
    ),
    "async_to_sync (new event loop)": (
        "async_to_sync with a new event loop (cold)",
        None,
        "async_to_sync_new_loop",
    ),
}


@dataclass
class HopRow:
    """One cell's median switches per request and server CPU."""

    cell_id: str
    server: str
    style: str
    stack: str
    endpoint: str
    users: int
    sync_to_async: float
    async_to_sync: float
    cpu_ms: float


@dataclass
class SideBySide:
    """One kind of switch costed three ways, beside the documentation's claim."""

    docs_claim_us: float = DOCS_CLAIM_US
    microbench: Timing | None = None
    accounting: switchfit.HopWall | None = None
    fit_cpu_us: dict[int, dict[str, float | None]] = field(default_factory=dict)  # by users

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"docs_claim_us": self.docs_claim_us}
        if self.microbench is not None:
            for clock in ("wall", "cpu"):
                figure = getattr(self.microbench, clock)
                data[f"microbench_{clock}_us"] = figure.mean_us
                data[f"microbench_{clock}_sd_us"] = figure.stdev_us
        if self.accounting is not None:
            data["accounting_wall_us"] = self.accounting.mean_us
            data["accounting_wall_sd_us"] = self.accounting.sd_us
        for users, slope in self.fit_cpu_us.items():
            data[f"fit_cpu_us_u{users}"] = slope
        return data


@dataclass
class SwitchAnalysis:
    """``switches.json``: the hops table, the fits by user count, the three figures."""

    run: str
    cells: int
    hops: list[HopRow]
    fits: dict[int, switchfit.Fit]  # by user count
    side_by_side: dict[str, SideBySide]
    points: list[switchfit.Point]
    docs_claim: str = DOCS_CLAIM

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": results.SCHEMA_VERSION,
            "run": self.run,
            "cells": self.cells,
            "hops": [asdict(row) for row in self.hops],
            "fits": {f"u{users}": fitted.to_dict() for users, fitted in self.fits.items()},
            "side_by_side": {kind: entry.to_json() for kind, entry in self.side_by_side.items()},
            "docs_claim": self.docs_claim,
            "points": [point.__dict__ for point in self.points],
        }


def load_microbench(
    root: Path, path: Path | None = None
) -> tuple[Path | None, MicrobenchSummary | None]:
    """A microbench summary: ``path``, or the newest ``*-microbench/summary.json``
    under the results root; (None, None) when there is none yet."""
    if path is None:
        found = sorted(root.glob("*-microbench/summary.json"))
        path = found[-1] if found else None
    if path is None:
        return None, None
    summary = results.read_json(path)
    results.check_schema(summary, path)
    return path, MicrobenchSummary.from_json(summary)


def hops_table(cells: list[CellDocument]) -> list[HopRow]:
    """Median switches per request of every cell, for the stack x server x style table."""
    rows = []
    for cell in cells:
        good = [r for r in cell.repeats if switchfit.counted(r)]
        if not good:
            continue
        identity = cell.cell
        rows.append(
            HopRow(
                cell_id=cell.id,
                server=identity.server,
                style=identity.style,
                stack=identity.stack,
                endpoint=identity.endpoint,
                users=identity.users,
                sync_to_async=median(r.switches.sync_to_async_per_request for r in good),
                async_to_sync=median(r.switches.async_to_sync_per_request for r in good),
                cpu_ms=median(r.server.cpu_ms_per_request for r in good),
            )
        )
    return sorted(rows, key=lambda r: (r.endpoint, r.users, r.stack, r.server, r.style))


def analyse(run: results.Run, microbench: MicrobenchSummary | None) -> SwitchAnalysis:
    """The switch cost of a run's cells (its switches scenario's, when it has one)."""
    cells = [c for c in run.documents.values() if c.cell.scenario == "switches"]
    if not cells:
        cells = list(run.documents.values())
    points = switchfit.points_from_cells(cells)
    by_users: dict[int, list[switchfit.Point]] = defaultdict(list)
    for point in points:
        by_users[int(point.group.rsplit("/u", 1)[1])].append(point)
    fits = {users: switchfit.fit(group) for users, group in sorted(by_users.items())}
    wall = switchfit.accounting_wall_us(cells)
    per_switch = microbench.per_switch if microbench is not None else {}
    side_by_side = {}
    for kind, (label, accounting_kind, slope) in KINDS.items():
        side_by_side[kind] = SideBySide(
            microbench=per_switch.get(label),
            accounting=wall.get(accounting_kind) if accounting_kind else None,
            fit_cpu_us={
                users: fitted.slopes_us[slope]
                for users, fitted in fits.items()
                if slope in fitted.slopes_us
            },
        )
    return SwitchAnalysis(
        run=run.path.name,
        cells=len(cells),
        hops=hops_table(cells),
        fits=fits,
        side_by_side=side_by_side,
        points=points,
    )


def _fmt(value: float | None, sd: float | None = None) -> str:
    if value is None:
        return "-"
    return f"{fmt(value, '{:.0f}')} ± {sd:.0f}" if sd is not None else fmt(value, "{:.0f}")


def _interval(fitted: dict[str, float | None] | None) -> str:
    if not fitted:
        return "-"
    low, high = fitted["ci_low_us"], fitted["ci_high_us"]
    return f"{fmt(fitted['us_per_switch'], '{:.0f}')} [{fmt(low, '{:.0f}')}, {fmt(high, '{:.0f}')}]"


def _hop_lines(hops: list[HopRow]) -> list[str]:
    lines = [
        "switches per request (median over repeats):",
        f"  {'endpoint':<6} {'users':>5} {'stack':<7} {'server':<17} {'style':<6} "
        f"{'s2a':>6} {'a2s':>5} {'CPU ms':>7}",
    ]
    for row in hops:
        lines.append(
            f"  {row.endpoint:<6} {row.users:>5} {row.stack:<7} {row.server:<17} "
            f"{row.style:<6} {row.sync_to_async:>6.2f} {row.async_to_sync:>5.2f} "
            f"{row.cpu_ms:>7.3f}"
        )
    return lines


def _cost_lines(analysis: SwitchAnalysis) -> list[str]:
    header = (
        f"  {'switch':<32} {'microbench wall':>16} {'microbench CPU':>15} {'in-request wall':>16}"
    )
    fit_users = sorted({u for e in analysis.side_by_side.values() for u in e.fit_cpu_us}, key=str)
    for users in fit_users:
        header += f" {'fit CPU u' + str(users):>22}"
    lines = ["cost of one switch, three ways (µs):", header]
    for kind, entry in analysis.side_by_side.items():
        bench, wall = entry.microbench, entry.accounting
        line = (
            f"  {kind:<32} "
            f"{_fmt(*((bench.wall.mean_us, bench.wall.stdev_us) if bench else (None,))):>16} "
            f"{_fmt(*((bench.cpu.mean_us, bench.cpu.stdev_us) if bench else (None,))):>15} "
            f"{_fmt(*((wall.mean_us, wall.sd_us) if wall else (None,))):>16}"
        )
        for users in fit_users:
            line += f" {_interval(entry.fit_cpu_us.get(users)):>22}"
        lines.append(line)
    lines.append(f"  {analysis.docs_claim}: {DOCS_CLAIM_US:.0f} µs")
    return lines


def _fit_lines(name: str, fitted: switchfit.Fit) -> list[str]:
    if fitted.note:
        return [f"fit {name}: {fitted.note}"]
    lines = [
        f"fit {name}: {fitted.n} points, R² {fitted.r_squared:.3f}, residual sd "
        f"{fitted.residual_sd_ms * 1000:.0f} µs; worst residuals:"
    ]
    for residual in fitted.residuals[:3]:
        lines.append(
            f"    {residual.cell_id} r{residual.repeat}: {residual.cpu_ms:.3f} ms, "
            f"fit {residual.fitted_ms:.3f} ({fmt(residual.residual_pct, '{:+.1f}%')})"
        )
    for name_fixed, fixed in fitted.fixed_ms.items():
        lines.append(f"    fixed cost {name_fixed}: {fixed:.3f} ms")
    return lines


def format_report(analysis: SwitchAnalysis) -> str:
    """What ``bench switches`` prints: hops per cell, each switch's cost three ways, the fits."""
    lines = [*_hop_lines(analysis.hops), "", *_cost_lines(analysis)]
    for users, fitted in analysis.fits.items():
        lines += _fit_lines(f"u{users}", fitted)
    return "\n".join(lines)


def write(run: results.Run, analysis: SwitchAnalysis) -> list[Path]:
    """switches.json and one chart per user count in the run directory."""
    results.write_json(run.path / "switches.json", analysis.to_json())
    written = [run.path / "switches.json"]
    for users, fitted in analysis.fits.items():
        points = [p for p in analysis.points if p.group.endswith(f"/u{users}")]
        if not points or fitted.note:
            continue
        written += switch_fit(
            points,
            fitted,
            f"{run.label}, {users} user(s)",
            run.path / "charts" / f"switch-fit-u{users}",
        )
    return written
