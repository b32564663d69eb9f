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
from pathlib import Path
from statistics import median
from typing import Any

from bench.analyse import switchfit
from bench.numbers import fmt
from bench.report.charts.switches import switch_fit
from bench.results import store as results
from bench.results.records import CellDocument

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


def load_microbench(root: Path, path: Path | None = None) -> tuple[Path | None, dict | None]:
    """A microbench summary: ``path``, or the newest ``*-microbench/summary.json``
    under the results root; (None, None) when there is none yet."""
    if path is None:
        found = sorted(root.glob("*-microbench/summary.json"))
        path = found[-1] if found else None
    if path is None:
        return None, None
    summary = results.read_json(path)
    results.check_schema(summary, path)
    return path, summary


def hops_table(cells: list[CellDocument]) -> list[dict[str, Any]]:
    """Median switches per request of every cell, for the stack x server x style table."""
    rows = []
    for cell in cells:
        good = [r for r in cell.repeats if switchfit.counted(r)]
        if not good:
            continue
        identity = cell.cell
        rows.append(
            {
                "cell_id": cell.id,
                "server": identity.server,
                "style": identity.style,
                "stack": identity.stack,
                "endpoint": identity.endpoint,
                "users": identity.users,
                "sync_to_async": median(r.switches.sync_to_async_per_request for r in good),
                "async_to_sync": median(r.switches.async_to_sync_per_request for r in good),
                "cpu_ms": median(r.server.cpu_ms_per_request for r in good),
            }
        )
    return sorted(
        rows, key=lambda r: (r["endpoint"], r["users"], r["stack"], r["server"], r["style"])
    )


def analyse(run: results.Run, microbench: dict[str, Any] | None) -> dict[str, Any]:
    cells = [c for c in run.documents.values() if c.cell.scenario == "switches"]
    if not cells:
        cells = list(run.documents.values())
    points = switchfit.points_from_cells(cells)
    by_users: dict[int, list[switchfit.Point]] = defaultdict(list)
    for point in points:
        by_users[int(point.group.rsplit("/u", 1)[1])].append(point)
    fits = {users: switchfit.fit(group) for users, group in sorted(by_users.items())}
    wall = switchfit.accounting_wall_us(cells)
    side_by_side = {}
    for kind, (per_switch, accounting_kind, slope) in KINDS.items():
        entry: dict[str, Any] = {"docs_claim_us": DOCS_CLAIM_US}
        measured = (microbench or {}).get("per_switch", {}).get(per_switch)
        if measured:
            for clock in ("wall", "cpu"):
                entry[f"microbench_{clock}_us"] = measured[clock]["mean_us"]
                entry[f"microbench_{clock}_sd_us"] = measured[clock]["stdev_us"]
        if accounting_kind and wall.get(accounting_kind):
            entry["accounting_wall_us"] = wall[accounting_kind]["mean_us"]
            entry["accounting_wall_sd_us"] = wall[accounting_kind]["sd_us"]
        for users, fitted in fits.items():
            if slope in fitted.slopes_us:
                entry[f"fit_cpu_us_u{users}"] = fitted.slopes_us[slope]
        side_by_side[kind] = entry
    return {
        "schema_version": results.SCHEMA_VERSION,
        "run": run.path.name,
        "cells": len(cells),
        "hops": hops_table(cells),
        "fits": {f"u{users}": fitted.to_dict() for users, fitted in fits.items()},
        "side_by_side": side_by_side,
        "docs_claim": DOCS_CLAIM,
        "points": [point.__dict__ for point in points],
    }


def _fmt(value: float | None, sd: float | None = None) -> str:
    if value is None:
        return "-"
    return f"{fmt(value, '{:.0f}')} ± {sd:.0f}" if sd is not None else fmt(value, "{:.0f}")


def _interval(fitted: dict[str, float] | None) -> str:
    if not fitted:
        return "-"
    low, high = fitted["ci_low_us"], fitted["ci_high_us"]
    return f"{fmt(fitted['us_per_switch'], '{:.0f}')} [{fmt(low, '{:.0f}')}, {fmt(high, '{:.0f}')}]"


def format_report(analysis: dict[str, Any]) -> str:
    lines = [
        "switches per request (median over repeats):",
        f"  {'endpoint':<6} {'users':>5} {'stack':<7} {'server':<17} {'style':<6} "
        f"{'s2a':>6} {'a2s':>5} {'CPU ms':>7}",
    ]
    for row in analysis["hops"]:
        lines.append(
            f"  {row['endpoint']:<6} {row['users']:>5} {row['stack']:<7} {row['server']:<17} "
            f"{row['style']:<6} {row['sync_to_async']:>6.2f} {row['async_to_sync']:>5.2f} "
            f"{row['cpu_ms']:>7.3f}"
        )
    lines.append("")
    lines.append("cost of one switch, three ways (µs):")
    header = (
        f"  {'switch':<32} {'microbench wall':>16} {'microbench CPU':>15} {'in-request wall':>16}"
    )
    fit_keys = sorted(
        {k for e in analysis["side_by_side"].values() for k in e if k.startswith("fit_")}
    )
    for key in fit_keys:
        header += f" {'fit CPU ' + key.removeprefix('fit_cpu_us_'):>22}"
    lines.append(header)
    for kind, entry in analysis["side_by_side"].items():
        line = (
            f"  {kind:<32} "
            f"{_fmt(entry.get('microbench_wall_us'), entry.get('microbench_wall_sd_us')):>16} "
            f"{_fmt(entry.get('microbench_cpu_us'), entry.get('microbench_cpu_sd_us')):>15} "
            f"{_fmt(entry.get('accounting_wall_us'), entry.get('accounting_wall_sd_us')):>16}"
        )
        for key in fit_keys:
            line += f" {_interval(entry.get(key)):>22}"
        lines.append(line)
    lines.append(f"  {analysis['docs_claim']}: {DOCS_CLAIM_US:.0f} µs")
    for name, fitted in analysis["fits"].items():
        if fitted["note"]:
            lines.append(f"fit {name}: {fitted['note']}")
            continue
        lines.append(
            f"fit {name}: {fitted['n']} points, R² {fitted['r_squared']:.3f}, residual sd "
            f"{fitted['residual_sd_ms'] * 1000:.0f} µs; worst residuals:"
        )
        for residual in fitted["residuals"][:3]:
            lines.append(
                f"    {residual['cell_id']} r{residual['repeat']}: {residual['cpu_ms']:.3f} ms, "
                f"fit {residual['fitted_ms']:.3f} ({fmt(residual['residual_pct'], '{:+.1f}%')})"
            )
        for name_fixed, fixed in fitted["fixed_ms"].items():
            lines.append(f"    fixed cost {name_fixed}: {fixed:.3f} ms")
    return "\n".join(lines)


def write(run: results.Run, analysis: dict[str, Any]) -> list[Path]:
    """switches.json and one chart per user count in the run directory."""
    results.write_json(run.path / "switches.json", analysis)
    written = [run.path / "switches.json"]
    for name, fitted in analysis["fits"].items():
        points = [
            switchfit.Point(**p) for p in analysis["points"] if p["group"].endswith(f"/{name}")
        ]
        if not points or fitted["note"]:
            continue
        fit = switchfit.Fit(**fitted)
        written += switch_fit(
            points,
            fit,
            f"{run.label}, {name.removeprefix('u')} user(s)",
            run.path / "charts" / f"switch-fit-{name}",
        )
    return written
