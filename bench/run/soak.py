"""``bench soak``: one cell for a long time, minute by minute.

A benchmark, not a test: it answers "does this configuration stay the same
after ten minutes?". Throughput and p99 per minute come from the exact
samples (each carries its completion time), errors per minute from the
failure times, and server memory from the sampler's RSS timeline. It flags
RSS growth above 10% between the first and the last minute, and error counts
that rise significantly from minute to minute. The table the command prints
is worded in ``bench.cli.formatter``.
"""

from pathlib import Path

import numpy as np
from scipy import stats as scipy_stats

from bench.analyse.stats import latency_summary
from bench.load import output
from bench.report.charts.soak import soak_chart
from bench.results import store as results
from bench.results.records import RepeatRecord
from bench.results.records.soak import SoakDocument, SoakMinute

RSS_GROWTH_LIMIT_PCT = 10.0
MINUTE = 60.0


def per_minute(repeat: RepeatRecord) -> list[SoakMinute]:
    """Throughput, p99, errors and peak RSS of each minute of the window."""
    samples = output.read_samples(Path(repeat.raw_dir or ""))
    # Every request name the repeat counted (records older than that field
    # counted their one primary name).
    names = repeat.counted_names or [repeat.primary]
    times = np.concatenate([samples.by_name[name] for name in names if name in samples.by_name])
    window = repeat.window_s or 0.0
    rss = repeat.server.rss_timeline_mb if repeat.server is not None else None
    timeline = np.array(rss or [], dtype=float).reshape(-1, 2)
    minutes = []
    # Whole minutes, and a last partial one only if it lasted a few seconds.
    count = int(window // MINUTE) + (window % MINUTE >= 5.0)
    for index in range(max(count, 1)):
        start, end = index * MINUTE, min((index + 1) * MINUTE, window)
        inside = times[(times[:, 0] >= start) & (times[:, 0] < end)]
        failures = samples.failure_times
        in_minute = (
            timeline[(timeline[:, 0] >= start) & (timeline[:, 0] < end)] if len(timeline) else []
        )
        minutes.append(
            SoakMinute(
                minute=index + 1,
                seconds=end - start,
                throughput_rps=len(inside) / (end - start) if end > start else None,
                p99_ms=latency_summary(inside[:, 1])["p99"],
                errors=int(((failures >= start) & (failures < end)).sum()),
                rss_peak_mb=float(in_minute[:, 1].max()) if len(in_minute) else None,
            )
        )
    return minutes


def flags(minutes: list[SoakMinute]) -> tuple[float | None, list[str]]:
    """RSS growth (percent, first to last minute) and what deserves attention."""
    found = []
    rss = [m.rss_peak_mb for m in minutes if m.rss_peak_mb is not None]
    growth = (rss[-1] - rss[0]) / rss[0] * 100 if len(rss) >= 2 and rss[0] else None
    if growth is not None and growth > RSS_GROWTH_LIMIT_PCT:
        found.append(f"server RSS grew {growth:.1f}% (more than {RSS_GROWTH_LIMIT_PCT:.0f}%)")
    errors = [m.errors for m in minutes]
    if len(errors) >= 3 and errors[-1] > errors[0] and len(set(errors)) > 1:
        trend = scipy_stats.linregress(range(len(errors)), errors)
        if trend.slope > 0 and trend.pvalue < 0.05:
            found.append(f"errors rise by {trend.slope:.1f} per minute (p={trend.pvalue:.3f})")
    return growth, found


def analyse(run_dir: Path) -> SoakDocument:
    """soak.json's document: the minutes and the flags, or why the soak failed."""
    run = results.read_run(run_dir)
    (cell,) = run.documents.values()
    repeat = cell.repeats[0]
    if not repeat.ok:
        return SoakDocument(
            schema_version=results.SCHEMA_VERSION,
            cell=cell.id,
            status=repeat.status,
            reason=repeat.reason,
            json_keys=SoakDocument.FAILED,
        )
    minutes = per_minute(repeat)
    growth, found = flags(minutes)
    return SoakDocument(
        schema_version=results.SCHEMA_VERSION,
        cell=cell.id,
        status="ok",
        window_s=repeat.window_s or 0.0,
        total_errors=sum(m.errors for m in minutes),
        rss_growth_pct=growth,
        flags=found,
        minutes=minutes,
        json_keys=SoakDocument.MEASURED,
    )


def write(run_dir: Path, analysis: SoakDocument) -> None:
    """soak.json, and the per-minute chart when there are minutes to draw."""
    data = analysis.to_json()
    results.write_json(run_dir / "soak.json", data)
    if analysis.minutes:
        soak_chart(analysis, run_dir.name, run_dir / "charts" / "soak")
