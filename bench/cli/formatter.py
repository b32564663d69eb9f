"""Every text a command writes to the terminal, formatted from what it computed.

The commands compute (or ask ``run``, ``report`` and ``results`` to compute)
and hand the figures here; these functions return the lines and never print,
so the wording of the whole command line can be read, and tested, in one place.
Heavy modules (the statistics behind a verdict's sentence) are imported inside
the function that needs them: ``djbench list`` should not pay for scipy.
"""

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from bench.numbers import fmt

if TYPE_CHECKING:  # annotations only: bench.report.build brings the charting libraries
    from bench.cost.execute import HopCost
    from bench.cost.gate import GateResult
    from bench.cost.records import CostCell, CostDocument
    from bench.plan.matrix import Cell
    from bench.plan.scenarios import Scenario
    from bench.report.beside import BesideRow
    from bench.report.contents import Report
    from bench.results.records import CrossCheck
    from bench.results.records.microbench import MicrobenchSummary, Timing
    from bench.results.records.soak import SoakDocument
    from bench.serve.servers import ServerSpec


def remote_target(host: str, target: str) -> str:
    """The note before loading a server on another machine (rich markup)."""
    return (
        f"[bold]note:[/bold] sending load to {host}, which is not this machine: "
        f"{target} (--allow-remote-host)"
    )


def results_line(run_dir: Path, status: str | None = None) -> str:
    """Where a command left its results, and the run's status when it has one."""
    return f"results: {run_dir}" + (f" ({status})" if status is not None else "")


def dry_run(
    cells: "Iterable[Cell]",
    notes: Iterable[str],
    warnings: Iterable[str],
    *,
    count: int,
    plan: str,
    minutes: float,
) -> list[str]:
    """``run --dry-run``: the cell ids, what the expansion noted, and the expected time."""
    lines = [cell.id for cell in cells]
    lines += [f"note: {note}" for note in notes]
    lines += [f"warning: {warning}" for warning in warnings]
    lines.append(f"{count} cells, {plan}: about {minutes:.1f} min")
    return lines


def listing(
    found: "Iterable[Scenario]",
    server_specs: "Mapping[str, ServerSpec]",
    installed: Mapping[str, bool],
    stacks: Iterable[str],
) -> list[str]:
    """``list``: the scenarios with their endpoints, the servers, the stacks."""
    lines = ["scenarios:"]
    for scenario in found:
        endpoints = ", ".join(scenario.endpoints)
        lines.append(f"  {scenario.name:<12} {scenario.summary}")
        lines.append(f"  {'':<12} endpoints: {endpoints}; users {list(scenario.users)}")
    lines.append("servers:")
    for name, spec in server_specs.items():
        state = "" if installed[name] else "  (not installed: pip install '.[servers]')"
        lines.append(f"  {name:<18} {spec.interface.upper()}  {spec.summary}{state}")
    lines.append("stacks:")
    lines += [f"  {name}" for name in stacks]
    return lines


def cross_check(server: str, users: int, check: "CrossCheck") -> str:
    """``calibrate``: locust against wrk on one server, and whether they agree."""
    verdict = "within 10%" if check.within_10_percent else "NOT within 10%"
    bound = " (locust was the bottleneck)" if check.locust_bound else ""
    return (
        f"{server} /sync/json, {users} connections: locust "
        f"{check.locust_rps:,.0f} req/s, wrk {check.wrk_rps:,.0f} req/s, "
        f"ratio {check.locust_over_wrk:.2f}: {verdict}{bound}"
    )


def cross_check_skipped(reason: object) -> str:
    """``calibrate`` without wrk (or when wrk failed): the ceiling still stands."""
    return f"wrk cross-check skipped: {reason}"


def switches(report_text: str, microbench_path: Path | None) -> list[str]:
    """``switches``: the fit's table and which microbenchmark sits beside it."""
    if microbench_path is None:
        return [
            report_text,
            "(no microbench results yet: run `make microbench` for the first column)",
        ]
    return [report_text, f"(microbench: {microbench_path.parent.name})"]


def wrote(path: Path) -> str:
    """A file a command wrote beside the run's own."""
    return f"wrote {path}"


def verdicts(report: "Report") -> list[str]:
    """``report`` (and the end of ``run``): the site's verdict, each question's
    answer, the open-loop headlines and the caveats (worded by the report)."""
    from bench.report.contents import verdict_lines

    return verdict_lines(report)


def report_written(report: "Report") -> str:
    """Where the pages went, once they are written."""
    return (
        f"report: {report.run.path / 'report.html'} (and report.md, charts/; "
        f"built in {report.seconds:.1f} s)"
    )


def comparison(text: str, out: Path) -> list[str]:
    """``compare``: the comparison's table and where it was written."""
    return [text, f"comparison: {out}"]


def archived(target: Path, size_bytes: int) -> str:
    """``archive``: where the copy went and how much it weighs in the repository."""
    return f"archived: {target} ({size_bytes / 1024:,.0f} KiB)"


def soak_table(analysis: "SoakDocument") -> str:
    """``soak``: one row per minute, the RSS growth and anything flagged."""
    if not analysis.ok:
        return f"soak of {analysis.cell} {analysis.status}: {analysis.reason}"
    lines = [
        f"soak of {analysis.cell} ({analysis.window_s / 60:.1f} min):",
        f"  {'minute':>6} {'req/s':>9} {'p99 ms':>9} {'errors':>7} {'RSS MiB':>8}",
    ]
    for minute in analysis.minutes:
        lines.append(
            f"  {minute.minute:>6} {minute.throughput_rps or 0:>9,.0f} "
            f"{minute.p99_ms or 0:>9.1f} {minute.errors:>7} "
            f"{minute.rss_peak_mb or 0:>8.1f}"
        )
    growth = analysis.rss_growth_pct
    lines.append(
        f"  errors {analysis.total_errors}, RSS growth " + fmt(growth, "{:+.1f}%", none="unknown")
    )
    lines += [f"  FLAG: {flag}" for flag in analysis.flags] or ["  no flags"]
    return "\n".join(lines)


def _microbench_row(label: str, timing: "Timing") -> str:
    cells = [f"{c.mean_us:9.2f} ± {c.stdev_us:6.2f}" for c in (timing.wall, timing.cpu)]
    return f"{label:<48} {cells[0]:>20} {cells[1]:>20}"


def microbench_table(summary: "MicrobenchSummary") -> str:
    """``microbench``: every benchmark, the per-switch costs, the accounting's own cost."""
    lines = [f"{'benchmark':<48} {'wall µs':>20} {'CPU µs':>20}"]
    for name, timing in summary.benchmarks.items():
        lines.append(_microbench_row(name, timing))
    lines.append("")
    lines.append("per switch (benchmark minus its floor):")
    for label, timing in summary.per_switch.items():
        lines.append(_microbench_row(label, timing))
    lines.append("")
    overhead = summary.accounting_overhead
    for kind, cost in overhead.per_hop_us().items():
        lines.append(f"switch accounting's own cost per {kind} hop: {cost:.2f} µs CPU")
    for handler, figures in overhead.handlers().items():
        lines.append(
            f"switch accounting on a {handler.upper()} request (default stack): "
            f"{figures.without_us:.0f} -> {figures.with_us:.0f} µs CPU "
            f"({fmt(figures.overhead_pct, '{:+.1f}%')})"
        )
    if summary.pinning is not None:
        pinning = summary.pinning
        lines.append(
            "warm sync_to_async, unpinned / pinned: "
            f"{pinning.unpinned.wall.mean_us:.1f} / {pinning.pinned.wall.mean_us:.1f} µs wall "
            f"(x{fmt(pinning.wall_ratio, '{:.2f}')}), "
            f"{pinning.unpinned.cpu.mean_us:.1f} / {pinning.pinned.cpu.mean_us:.1f} µs CPU "
            f"(x{fmt(pinning.cpu_ratio, '{:.2f}')})"
        )
    return "\n".join(lines)


def _millions(value: float | None) -> str:
    return fmt(None if value is None else value / 1e6, "{:.3f} M")


def cost_progress(cost: "CostCell", stage: str) -> str:
    """``cost``: one line as each repeat of a cell ends (or the cell fails)."""
    cell_id = cost.label
    if stage == "failed":
        return f"{cell_id}: failed: {cost.error}"
    last = cost.repeats[-1]
    hops = f", {cost.hops.per_request:g} hops/request" if cost.hops else ""
    return (
        f"{cell_id} {stage}: {_millions(last.instructions_per_request)} instructions/request{hops}"
    )


def cost_table(document: "CostDocument", ratios: Mapping[str, float]) -> str:
    """``cost``: instructions per request per cell, the spread of its repeats, its
    hops, and its ratio to the WSGI + sync cell of the same endpoint."""
    lines = [
        f"{'cell':<44} {'instr/request':>14} {'repeats':>7} {'spread':>8} "
        f"{'hops/req':>8} {'x WSGI+sync':>11}"
    ]
    for cost in document.cells:
        cell_id = cost.label
        if cost.status == "failed" and not cost.repeats:
            lines.append(f"{cell_id:<44} failed: {cost.error}")
            continue
        spread = fmt(cost.spread_percent, "{:.2f}%", none="-")
        hops = fmt(cost.hops.per_request if cost.hops else None, "{:g}", none="-")
        ratio = fmt(ratios.get(cell_id), "x{:.2f}", none="-")
        lines.append(
            f"{cell_id:<44} {_millions(cost.instructions_per_request):>14} "
            f"{len(cost.repeats):>7} {spread:>8} {hops:>8} {ratio:>11}"
        )
    settings = document.settings
    if settings is not None:
        counter = document.valgrind.version if document.valgrind else "valgrind"
        lines.append(
            f"instructions counted by {counter}: "
            f"(I[{settings.high_requests}] - I[{settings.low_requests}]) / "
            f"{settings.high_requests - settings.low_requests} requests per repeat; "
            "the figure is the median of the repeats; spread = (max - min) / mean"
        )
    from bench.cost.measure import disagreements

    lines += disagreements(document.cells)
    return "\n".join(lines)


def cost_syscalls(document: "CostDocument", top: int = 6) -> list[str]:
    """``cost``: each cell's system calls per request, the most frequent first."""
    lines = []
    for cost in document.cells:
        if cost.cell is None or cost.syscalls is None:
            continue
        shown = [rate for rate in cost.syscalls.rates if round(rate.calls, 2) != 0][:top]
        kinds = ", ".join(f"{rate.name} {fmt(rate.calls, '{:.2f}')}" for rate in shown)
        lines.append(
            f"{cost.cell.id}: {fmt(cost.syscalls.per_request, '{:.1f}')} system calls/request"
            + (f" ({kinds})" if kinds else "")
        )
    return lines


def beside(rows: "list[BesideRow]", cost_dir: Path) -> list[str]:
    """``report --cost``: each verdict's CPU-time ratio and its instruction ratio."""
    if not rows:
        return [f"{cost_dir}: no cell of this cost run matches a verdict's two cells"]
    lines = [f"instructions per request from {cost_dir}, beside CPU time per request:"]
    for row in rows:
        interval = (
            f" [{fmt(row.cpu_low, '{:.2f}')}, {fmt(row.cpu_high, '{:.2f}')}]"
            if row.cpu_low is not None
            else ""
        )
        share = (
            "the other way from the CPU time"
            if row.opposite
            else fmt(
                None if row.explained_share is None else 100 * row.explained_share,
                "{:.0f}% of the CPU ratio on a log scale",
                none="no CPU difference to explain",
            )
        )
        calls = fmt(row.syscalls_ratio, "x{:.2f}", none="-")
        switches = fmt(row.ctx_ratio, "x{:.2f}", none="not counted in this run")
        lines.append(
            f"  {row.question}: CPU x{fmt(row.cpu_ratio, '{:.2f}')}{interval}, "
            f"instructions x{fmt(row.instructions_ratio, '{:.2f}')} ({share}), "
            f"the rest x{fmt(row.rest_ratio, '{:.2f}')}, "
            f"system calls {calls}, context switches {switches}"
        )
    return lines


def cost_gate(result: "GateResult") -> list[str]:
    """``cost --baseline``: each cell's change, what else changed, the verdict."""
    limit = result.limit_percent
    lines = [f"against {result.baseline}:"]
    for change in result.changes:
        mark = "  GREW ABOVE THE LIMIT" if change.over else ""
        lines.append(
            f"  {change.cell_id:<44} {_millions(change.baseline):>10} -> "
            f"{_millions(change.now):>10}  {fmt(change.percent, '{:+.2f}%')}{mark}"
        )
    for cell_id in result.new:
        lines.append(f"  {cell_id:<44} new: not in the baseline")
    for cell_id in result.gone:
        lines.append(f"  {cell_id:<44} in the baseline, not measured now")
    if result.differences:
        lines.append("  also changed since the baseline: " + "; ".join(result.differences))
    if limit is not None:
        grew = [change for change in result.changes if change.over]
        lines.append(
            f"{len(grew)} of {len(result.changes)} cells grew by more than {fmt(limit, '{:g}')}%"
            if grew
            else f"no cell grew by more than {fmt(limit, '{:g}')}%"
        )
    return lines


def hop_costs(costs: "Iterable[HopCost]") -> list[str]:
    """``cost``: the instructions of one hop, where two cells differ in hops only."""
    lines = []
    for cost in costs:
        low, high = cost.low, cost.high
        assert low.cell is not None and high.cell is not None
        assert low.hops is not None and high.hops is not None
        lines.append(
            f"one hop, {cost.group}: {fmt(cost.instructions_per_hop / 1e3, '{:,.1f}')} k "
            f"instructions ({low.cell.endpoint} -> {high.cell.endpoint}: "
            f"{low.hops.per_request:g} -> {high.hops.per_request:g} hops/request)"
        )
    return lines
