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
    from bench.plan.matrix import Cell
    from bench.plan.scenarios import Scenario
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
    return "\n".join(lines)
