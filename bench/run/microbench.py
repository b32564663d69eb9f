"""``bench microbench``: the asgiref adapters alone, timed with pyperf.

pyperf runs ``project.microbench`` in worker processes pinned to the server's
CPU (several processes, warm-ups, calibrated loops) and keeps every value in
its JSON, saved in ``results/<timestamp>-microbench/``. This module reads that
JSON back and derives the per-switch figures: an adapter's cost is its time
minus the floor it replaces (a plain call or a plain await). The table the
command prints is worded in ``bench.cli.formatter``.
"""

import subprocess
import sys
from pathlib import Path

import pyperf

from bench import ROOT
from bench.errors import BenchError
from bench.results import store as results
from bench.results.records.microbench import (
    AccountingOverhead,
    ClockFigure,
    HandlerOverhead,
    MicrobenchSummary,
    Pinning,
    Timing,
)
from bench.serve import processes

# (derived figure, benchmark, floor it is measured against)
DERIVED = {
    "sync_to_async, warm context, thread_sensitive=True": (
        "s2a_warm_thread_sensitive",
        "plain_await",
    ),
    "sync_to_async, warm, thread_sensitive=False": ("s2a_warm_not_thread_sensitive", "plain_await"),
    "new thread-sensitive context + one sync_to_async": ("s2a_new_context", "plain_await"),
    "sync_to_async, warm, both threads pinned to one CPU": ("sync_to_async_pinned", "plain_await"),
    "sync_to_async, warm, threads free on every CPU": ("sync_to_async_unpinned", "plain_await"),
    "async_to_sync under an outer async_to_sync (warm)": ("a2s_warm", "plain_call"),
    "async_to_sync with a new event loop (cold)": ("a2s_cold_new_loop", "plain_call"),
}


def run_pyperf(
    out: Path, *, cpus: frozenset[int] | None, quick: bool, only: list[str] | None = None
) -> Path:
    """Run the suite; pyperf's JSON lands in ``out``."""
    target = out / "microbench.json"
    command = [sys.executable, "-m", "project.microbench", "-o", str(target), "--quiet"]
    command += (
        ["--processes", "3", "--values", "2"] if quick else ["--processes", "6", "--values", "3"]
    )
    if cpus:
        command += ["--affinity", processes.format_cpus(cpus)]
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "DJANGO_SECRET_KEY": "microbench",
        "BENCH_SQLITE_PATH": str(out / "unused.sqlite3"),
    }
    if only:
        command += ["--only", ",".join(only)]
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600
    )
    (out / "pyperf.log").write_text(result.stdout + result.stderr)
    if result.returncode != 0 or not target.exists():
        lines = (result.stderr or result.stdout).strip().splitlines()
        raise BenchError("microbenchmark failed: " + (lines[-1] if lines else "no output"))
    return target


def _stats(suite: pyperf.BenchmarkSuite, name: str) -> tuple[float, float]:
    bench = suite.get_benchmark(name)
    values = bench.get_values()
    stdev = bench.stdev() if len(values) > 1 else 0.0
    return bench.mean() * 1e6, stdev * 1e6


def _timing(suite: pyperf.BenchmarkSuite, name: str) -> Timing:
    clocks = {clock: ClockFigure(*_stats(suite, f"{name}:{clock}")) for clock in ("wall", "cpu")}
    return Timing(**clocks)


def _less(timing: Timing, floor: Timing) -> Timing:
    """``timing`` minus its ``floor``, their deviations added in quadrature."""

    def clock(a: ClockFigure, b: ClockFigure) -> ClockFigure:
        return ClockFigure(a.mean_us - b.mean_us, (a.stdev_us**2 + b.stdev_us**2) ** 0.5)

    return Timing(wall=clock(timing.wall, floor.wall), cpu=clock(timing.cpu, floor.cpu))


def _overhead(table: dict[str, Timing]) -> AccountingOverhead:
    """The accounting's own cost, of the benchmarks that ran (only those keys)."""
    overhead = AccountingOverhead(json_keys=())
    for kind in ("sync_to_async", "async_to_sync"):
        name = f"accounting_per_{kind}"
        if name in table:
            setattr(overhead, f"per_{kind}_us", table[name].cpu.mean_us)
    for handler in ("asgi", "wsgi"):
        if f"{handler}_request_django_stack_accounting" not in table:
            continue
        plain = table[f"{handler}_request_django_stack"].cpu.mean_us
        counted = table[f"{handler}_request_django_stack_accounting"].cpu.mean_us
        setattr(overhead, handler, HandlerOverhead(plain, counted, (counted - plain) / plain * 100))
    return overhead


def _pinning(table: dict[str, Timing]) -> Pinning | None:
    """Unpinned against pinned (each less the floor of a plain await), or None
    unless both ran; a ratio only where the pinned figure is above zero."""
    names = ("sync_to_async_pinned", "sync_to_async_unpinned", "plain_await")
    if not all(name in table for name in names):
        return None
    pinned = _less(table[names[0]], table[names[2]])
    unpinned = _less(table[names[1]], table[names[2]])

    def ratio(a: ClockFigure, b: ClockFigure) -> float | None:
        return b.mean_us / a.mean_us if a.mean_us > 0 else None

    return Pinning(
        pinned=pinned,
        unpinned=unpinned,
        wall_ratio=ratio(pinned.wall, unpinned.wall),
        cpu_ratio=ratio(pinned.cpu, unpinned.cpu),
    )


def summarise(path: Path) -> MicrobenchSummary:
    """Per-benchmark mean and standard deviation (µs), and the derived figures."""
    suite = pyperf.BenchmarkSuite.load(str(path))
    names = sorted({name.rsplit(":", 1)[0] for name in suite.get_benchmark_names()})
    table = {name: _timing(suite, name) for name in names}
    derived = {
        label: _less(table[name], table[floor])
        for label, (name, floor) in DERIVED.items()
        if name in table and floor in table
    }
    metadata = suite.get_metadata() if hasattr(suite, "get_metadata") else {}
    pinning = _pinning(table)
    keys = ("schema_version", "benchmarks", "per_switch", "accounting_overhead", "metadata")
    return MicrobenchSummary(
        schema_version=results.SCHEMA_VERSION,
        benchmarks=table,
        per_switch=derived,
        accounting_overhead=_overhead(table),
        metadata={k: str(v) for k, v in metadata.items()},
        pinning=pinning,
        json_keys=(*keys, "pinning") if pinning is not None else keys,
    )


def execute(
    results_root: Path, *, cpus: frozenset[int] | None, quick: bool, only: list[str] | None = None
) -> tuple[Path, MicrobenchSummary]:
    """A new microbench run directory with pyperf's JSON and its summary.json;
    the directory and the summary (the command line prints it)."""
    run_dir = results.create_run_dir(results_root, "microbench")
    path = run_pyperf(run_dir, cpus=cpus, quick=quick, only=only)
    summary = summarise(path)
    results.write_json(run_dir / "summary.json", summary.to_json())
    return run_dir, summary
