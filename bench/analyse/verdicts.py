"""Verdicts: the questions a run answers, as ratios with intervals and tests.

Within a scenario, cells that differ only in server and view style are
paired: ASGI + async against WSGI + sync (the migration question), and, on
one ASGI server, async views against sync views (the rewrite question).
Every ratio is of geometric means over the repeats, with its 95% interval and
Welch's t-test on log values (bench.analyse.stats.compare). A report asks many such
questions at once, so "significant" is decided after Holm's correction over
all of them; "not significant" and "not tested" are said plainly.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from bench.analyse import groups as grouping
from bench.analyse.groups import by_identity, documents, paired_values, repeat_values
from bench.analyse.stats import (
    ALPHA,
    PERCENTILES,
    TOO_FEW_SAMPLES,
    Comparison,
    backed,
    beyond_answers,
    compare,
    compare_paired,
    holm,
    not_tested,
)
from bench.plan.matrix import Cell
from bench.plan.scenarios import OWN
from bench.results.records import CellDocument
from bench.results.rows import ComparisonRow, Metric, SustainedVerdict, VerdictRow

ERROR_LIMIT = 0.01  # a configuration failing more of its requests is not compared
WSGI_PREFERENCE = ("gunicorn-gthread", "gunicorn-sync", "granian-wsgi")
ASGI_PREFERENCE = ("uvicorn", "gunicorn-uvicorn", "gunicorn-asgi", "granian-asgi", "hypercorn")
METRICS = (
    ("throughput", ("throughput_rps",)),
    ("p99", ("latency_ms", "p99")),
    ("CPU/request", ("server", "cpu_ms_per_request")),
)
# Ratios shown beside the tested ones, outside Holm's family: what the kernel
# did per request (every thread's context switches, ``bench.measure.sched``).
KERNEL_METRICS = (("ctx switches/request", ("server", "sched", "ctx_per_request")),)
# On PostgreSQL cells the database's backends do part of each request's work:
# there "CPU/request" is the server's plus theirs, when both cells measured it.
SERVER_AND_DB_CPU = ("db", "server_and_db_cpu_ms_per_request")
# Within a scenario, the cells a question pairs share these (and differ in
# server and view style); open-loop cells are paired at the same offered rate.
PAIRED_BY = ("endpoint", "stack", "users", "db_mode", "rate")


def compare_cells(
    a: CellDocument, b: CellDocument, keys: tuple[str, ...], paired: bool = False
) -> Comparison:
    """One metric of cell B against cell A over their repeats; ``paired``: over
    the per-pass ratios of repeats measured back to back.

    A latency percentile that some repeat has too few samples for is not
    tested: its repeats' values are mostly noise, and a ratio of them would
    be printed as if it were not.
    """
    values_a, values_b = repeat_values(a, keys), repeat_values(b, keys)
    percentile = keys[-1] if keys[0] == "latency_ms" and keys[-1] in PERCENTILES else None
    if percentile and (beyond_answers(a, percentile) or beyond_answers(b, percentile)):
        # An open-loop cell whose percentile fell among requests never answered
        # has no finite value: no ratio, and the reason, not "no data".
        beyond = [c.id for c in (a, b) if beyond_answers(c, percentile)]
        return not_tested(
            f"beyond every answer in {', '.join(beyond)}", len(values_a), len(values_b)
        )
    if percentile and not (backed(a, percentile) and backed(b, percentile)):
        return not_tested(TOO_FEW_SAMPLES, len(values_a), len(values_b))
    if paired:
        return compare_paired(paired_values(a, b, keys))
    return compare(values_a, values_b)


def record(result: Comparison) -> Metric:
    """A comparison as a report writes it; until ``correct`` runs over all the rows,
    p_holm is the uncorrected p-value (a family of one)."""
    return Metric(
        ratio=result.ratio,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
        n_a=result.n_a,
        n_b=result.n_b,
        p_value=result.p_value,
        p_holm=result.p_value,
        significant=result.significant,
        verdict=result.verdict,
    )


Tested = VerdictRow | SustainedVerdict | ComparisonRow  # a row whose metrics Holm corrects


def correct(rows: Iterable[Tested], alpha: float = ALPHA) -> None:
    """Holm over every tested metric of every row, in place.

    Each metric of each row is one hypothesis; untested ones have no p-value
    and do not count. ``significant`` becomes p_holm < alpha, and a metric
    significant only before the correction says so in its verdict.
    """
    tested = [metric for row in rows for metric in row.metrics.values() if metric.tested]
    for metric, adjusted in zip(tested, holm([metric.p_value for metric in tested]), strict=True):
        metric.p_holm = adjusted
        metric.significant = adjusted < alpha
        if metric.significant:
            metric.verdict = "significant"
        elif metric.p_value < alpha:
            metric.verdict = "not significant after Holm"
        else:
            metric.verdict = "not significant"


def preferred(
    items: list[Any], server_of: Callable[[Any], str], preference: tuple[str, ...]
) -> Any:
    """The item whose server comes first in ``preference`` (unlisted servers last)."""
    ranked = sorted(
        items,
        key=lambda item: preference.index(server_of(item)) if server_of(item) in preference else 99,
    )
    return ranked[0] if ranked else None


def _pick(
    cells: list[CellDocument],
    interface: str,
    view: str,
    interfaces: dict[str, str],
    preference: tuple[str, ...],
) -> CellDocument | None:
    matching = [
        c for c in cells if interfaces.get(c.cell.server) == interface and c.cell.style == view
    ]
    # A configuration that served is preferred; one that failed still answers
    # the question, with no ratio and the reason why.
    usable = [c for c in matching if c.status in ("ok", "partial")]
    failed = [c for c in matching if c.status == "failed" and c.repeats]
    return preferred(usable or failed, lambda c: c.cell.server, preference)


def first_exceptions(cell: CellDocument) -> dict[str, str]:
    """Per path, the first exception the cell's servers recorded (a user's site)."""
    found: dict[str, str] = {}
    for repeat in cell.repeats:
        for path, line in (repeat.server_exceptions or {}).items():
            found.setdefault(path, line)
    return found


def failure(cell: CellDocument) -> str | None:
    """Why a cell's figures cannot be compared, or None when they can.

    A cell fails when no repeat was measured, or when a measured repeat failed more
    than ERROR_LIMIT of its requests: throughput and CPU per request then count
    only the requests that succeeded, and a 500 is cheaper to serve than the page.
    The highest repeat decides: a configuration that fails under this load in one
    repeat of five is not one to recommend on the other four.
    """
    repeats = [r for r in cell.repeats if r.ok]
    exceptions = first_exceptions(cell)
    if cell.status not in ("ok", "partial") or not repeats:
        reasons = [r.reason for r in cell.repeats if r.reason]
        text = "failed every repeat" + (f": {reasons[0].splitlines()[0]}" if reasons else "")
    else:
        rates = [float(r.error_rate or 0.0) for r in repeats]
        if max(rates) <= ERROR_LIMIT:
            return None
        over = sum(rate > ERROR_LIMIT for rate in rates)
        low, high = f"{min(rates):.1%}", f"{max(rates):.1%}"
        share = high if low == high else f"{low}-{high}"
        text = (
            f"failed {share} of its requests ({over} of {len(rates)} repeats over "
            f"{ERROR_LIMIT:.0%})"
        )
        errors: dict[str, int] = {}
        for repeat in repeats:
            for kind, count in (repeat.errors or {}).items():
                errors[kind] = errors.get(kind, 0) + int(count)
        if not exceptions and errors:
            text += f", e.g. {max(errors, key=errors.get)}"
    if exceptions and "the server raised" not in text:
        shown = "; ".join(f"{line} at {path}" for path, line in list(exceptions.items())[:3])
        text += f"; the server raised {shown}"
    return text


def failed_pair(
    candidate: CellDocument, baseline: CellDocument, question: str
) -> VerdictRow | None:
    """The row of a question one of whose configurations failed: no ratio, why instead."""
    failed = {cell.id: failure(cell) for cell in (candidate, baseline)}
    failed = {cell_id: text for cell_id, text in failed.items() if text}
    if not failed:
        return None
    return VerdictRow(
        question=question,
        candidate=candidate.id,
        baseline=baseline.id,
        loadgen_bound=False,
        failed=failed,
    )


def includes_database(cell: CellDocument) -> bool:
    """Every successful repeat of the cell measured its database backends' CPU."""
    good = [repeat for repeat in cell.repeats if repeat.ok]
    return bool(good) and len(repeat_values(cell, SERVER_AND_DB_CPU)) == len(good)


Blocked = set[frozenset[str]]  # pairs of cell ids a run measured back to back


def pair(
    candidate: CellDocument,
    baseline: CellDocument,
    question: str,
    blocked: Blocked | None = None,
) -> VerdictRow:
    """Ratios candidate / baseline with their intervals and uncorrected tests; no
    ratio, and why, when either configuration failed (see ``failure``).

    Where the run measured the two cells back to back (``blocked``, from
    run.json), the metrics are paired and the unpaired ones are kept beside
    them; ``blocked`` None is a run that blocked nothing (an older run).

    CPU per request is the server's plus the database's when both cells
    measured their PostgreSQL backends (``cpu_includes_database``): the server
    alone would credit a configuration with work it moved into the database.
    """
    failed = failed_pair(candidate, baseline, question)
    if failed is not None:
        return failed
    with_db = includes_database(candidate) and includes_database(baseline)
    metrics = tuple(
        (name, SERVER_AND_DB_CPU if with_db and name == "CPU/request" else keys)
        for name, keys in METRICS
    )
    unpaired = {name: record(compare_cells(baseline, candidate, keys)) for name, keys in metrics}
    row = VerdictRow(
        question=question,
        candidate=candidate.id,
        baseline=baseline.id,
        loadgen_bound=bool(candidate.loadgen_bound or baseline.loadgen_bound),
        cpu_includes_database=with_db,
        metrics=unpaired,
    )
    row.kernel = kernel_ratios(candidate, baseline, False) or None
    if blocked is None:
        return row
    if frozenset((candidate.id, baseline.id)) not in blocked:
        row.pairing = "unpaired"
        return row
    row.pairing, row.unpaired = "paired", unpaired
    row.metrics = {
        name: record(compare_cells(baseline, candidate, keys, paired=True))
        for name, keys in metrics
    }
    row.kernel = kernel_ratios(candidate, baseline, True) or None
    return row


def kernel_ratios(
    candidate: CellDocument, baseline: CellDocument, paired: bool
) -> dict[str, Metric]:
    """The kernel's figures candidate / baseline, where every successful repeat
    of both cells has one above zero (a ratio of logs needs it); descriptive:
    ``correct`` never sees them."""
    found = {}
    for name, keys in KERNEL_METRICS:
        sides = [repeat_values(cell, keys) for cell in (candidate, baseline)]
        complete = all(
            len(values) == len(cell.ok_repeats) and values and min(values) > 0
            for values, cell in zip(sides, (candidate, baseline), strict=True)
        )
        if complete:
            found[name] = record(compare_cells(baseline, candidate, keys, paired=paired))
    return found


def verdicts(
    cells: Iterable[CellDocument | dict],
    interfaces: dict[str, str],
    baselines: dict[str, str] | None = None,
    blocked: Blocked | None = None,
) -> dict[str, list[VerdictRow]]:
    """For each scenario, the paired comparisons its cells allow, Holm-corrected together.

    ``baselines`` maps a scenario to the endpoint it declares as its baseline
    (BENCH "baseline"): each other endpoint is then also compared with it, in
    the same server, style, stack and load ("gzip_page vs json"). ``blocked``:
    the pairs of cells the run measured back to back (``pair``).
    """
    by_scenario: dict[str, dict[tuple, list[CellDocument]]] = defaultdict(dict)
    for (scenario, *shared), group in by_identity(
        documents(cells), ("scenario", *PAIRED_BY)
    ).items():
        by_scenario[scenario][tuple(shared)] = group
    found: dict[str, list[VerdictRow]] = {}
    for scenario, groups in by_scenario.items():
        rows = []
        for key, group in groups.items():
            # open-loop cells are paired at the same offered rate
            at = f" at {key[-1]}/s offered" if key[-1] else ""
            at += _where(key, list(groups))
            # a user's site has one variant of each view: its ASGI against its WSGI
            wsgi_own = _pick(group, "wsgi", OWN, interfaces, WSGI_PREFERENCE)
            asgi_own = _pick(group, "asgi", OWN, interfaces, ASGI_PREFERENCE)
            if wsgi_own and asgi_own:
                rows.append(pair(asgi_own, wsgi_own, "ASGI vs WSGI for your site" + at, blocked))
            wsgi_sync = _pick(group, "wsgi", "sync", interfaces, WSGI_PREFERENCE)
            asgi_async = _pick(group, "asgi", "async", interfaces, ASGI_PREFERENCE)
            if wsgi_sync and asgi_async:
                rows.append(
                    pair(asgi_async, wsgi_sync, "ASGI + async vs WSGI + sync" + at, blocked)
                )
            if asgi_async:
                same_server = [
                    c
                    for c in group
                    if c.cell.server == asgi_async.cell.server
                    and c.cell.style == "sync"
                    and c.status in ("ok", "partial")
                ]
                if same_server:
                    rows.append(
                        pair(
                            asgi_async,
                            same_server[0],
                            "async vs sync views, same ASGI server" + at,
                            blocked,
                        )
                    )
        rows += against_baseline(groups, (baselines or {}).get(scenario), blocked)
        if rows:
            found[scenario] = rows
    correct(row for rows in found.values() for row in rows)
    return found


def _where(key: tuple, keys: list[tuple]) -> str:
    """' (sse, 1000 users)': what tells this group's question from the scenario's
    other groups, when it has several (an open-loop pool follows its rate)."""
    labels = (
        lambda endpoint: endpoint,
        lambda stack: f"stack {stack}",
        lambda users: f"{users} users",
        lambda db_mode: db_mode,
    )
    parts = [
        label(key[index])
        for index, label in enumerate(labels)
        if len({other[index] for other in keys}) > 1 and not (index == 2 and key[-1])
    ]
    return f" ({', '.join(map(str, parts))})" if parts else ""


def against_baseline(
    groups: dict[tuple, list[CellDocument]], baseline: str | None, blocked: Blocked | None = None
) -> list[VerdictRow]:
    """Each endpoint's cells against the baseline endpoint's cell that differs
    from them in the endpoint only."""
    if not baseline:
        return []
    usable = [
        cell for group in groups.values() for cell in group if cell.status in ("ok", "partial")
    ]

    def rest(cell: CellDocument) -> tuple:
        return grouping.key(
            cell, tuple(sorted(name for name in Cell.__dataclass_fields__ if name != "endpoint"))
        )

    references = {rest(c): c for c in usable if c.cell.endpoint == baseline}
    rows = []
    for cell in usable:
        endpoint = cell.cell.endpoint
        reference = references.get(rest(cell))
        if endpoint != baseline and reference is not None:
            where = f"{cell.cell.server}, {cell.cell.style}"
            rows.append(pair(cell, reference, f"{endpoint} vs {baseline} ({where})", blocked))
    return rows


def _times(value: float, digits: int) -> str:
    # Two decimals hide a small ratio (0.004 is not 0.00): below 0.1, significant figures.
    return f"{value:.{digits}f}" if value >= 0.1 else f"{value:.{digits}g}"


def metric_text(metric: Metric, digits: int = 2) -> str:
    """'x2.30 [2.10, 2.52]', with '(not significant ...)' or '(not tested: why)' after it."""
    verdict = metric.verdict
    if metric.ratio is None:
        return verdict
    text = f"x{_times(metric.ratio, digits)}"
    if metric.ci_low is not None and metric.ci_high is not None:
        text += f" [{_times(metric.ci_low, digits)}, {_times(metric.ci_high, digits)}]"
    if verdict.startswith("not tested ("):
        return f"{text} (not tested: {verdict.removeprefix('not tested (').removesuffix(')')})"
    return text if metric.significant else f"{text} ({verdict})"


def describe(row: VerdictRow) -> str:
    """'throughput x2.30 [2.10, 2.52], p99 x0.41 [0.20, 0.90] (not significant after Holm),
    CPU/request x1.80 [1.70, 1.91]'; '(not tested: 1 repeat)' where no test was possible;
    'no ratio: `cell` failed ...' when a configuration failed. CPU that includes
    the database's backends is named so."""
    if row.failed:
        return "no ratio: " + "; ".join(
            f"`{cell_id}` {text}" for cell_id, text in row.failed.items()
        )

    def label(name: str) -> str:
        if name == "CPU/request" and row.cpu_includes_database:
            return "CPU/request (server + database)"
        return name

    text = ", ".join(f"{label(name)} {metric_text(metric)}" for name, metric in row.metrics.items())
    return text + kernel_text(row) + pairing_text(row)


def kernel_text(row: VerdictRow) -> str:
    """', ctx switches/request x3.10 [2.90, 3.31] (descriptive)': the kernel's
    ratios, said to be outside the tests; '' where none was measured."""
    parts = []
    for name, metric in (row.kernel or {}).items():
        if metric.ratio is None:
            continue
        text = f"{name} x{_times(metric.ratio, 2)}"
        if metric.ci_low is not None and metric.ci_high is not None:
            text += f" [{_times(metric.ci_low, 2)}, {_times(metric.ci_high, 2)}]"
        parts.append(text + " (descriptive)")
    return "".join(f", {part}" for part in parts)


def pairing_text(row: VerdictRow) -> str:
    """'; paired over 9 passes' (the cells ran back to back, the intervals are
    the paired ones), '; unpaired' where the run blocked others but not these."""
    if row.pairing == "paired":
        counts = {m.n_a for m in row.metrics.values() if m.tested}
        if counts:
            return f"; paired over {'-'.join(map(str, sorted(counts)))} passes"
        return "; paired"
    if row.pairing == "unpaired":
        return "; unpaired (not measured back to back)"
    return ""
