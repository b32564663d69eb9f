"""The open-loop headline: the highest offered rate a configuration sustains
with its p99 under the latency objective.

In each pass of a run, a search (``bench.analyse.search``) measures a configuration
(server, view style, endpoint, stack, database) at the rates it needs: it
brackets the knee on the scenario's grid, then bisects until the bracket is
within 5%. The pass's sustained rate is the bracket's lower end: the highest
rate measured to be sustainable (achieved the offered rate, dropped nothing,
latency not growing) with p99 under the objective, p99 taken from each
request's due time over every request scheduled in the window. The passes
give one value each, so the headline comes with its spread, and two
configurations are compared with the same statistics as every other verdict.

The grid bounds the answer: a configuration that met the objective at the top
rate is "at least" that; one that met it at none is "below" the lowest. A
search the load generator stopped is said so: its pass is a lower bound.
"""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from bench.analyse import search
from bench.analyse.groups import documents
from bench.analyse.stats import compare, supports
from bench.analyse.verdicts import ASGI_PREFERENCE, WSGI_PREFERENCE, metric_text, preferred, record
from bench.results.records import CellDocument, RepeatRecord
from bench.results.rows import PassResult, SustainedRate, SustainedVerdict


def outcome(repeat: RepeatRecord, slo_ms: float) -> str:
    """How one open-loop repeat counts in the search: met, missed, or bound.

    Met: sustainable and a p99 under the objective, the p99 taken over every
    request scheduled in the window (an unanswered one slower than any answer)
    and backed by enough of them; the run sizes each window for that, so one
    criterion holds at every rate. A load-generator-bound repeat is never met:
    the rate was not really offered.
    """
    if not repeat.ok:
        return search.MISSED
    if repeat.loadgen is not None and repeat.loadgen.bound:
        return search.BOUND
    p99 = repeat.latency_ms.p99 if repeat.latency_ms is not None else None
    backed = supports(repeat.latency_ms, "p99") and p99 is not None
    sustainable = repeat.open_loop is not None and bool(repeat.open_loop.sustainable)
    met = sustainable and backed and p99 < slo_ms
    return search.MET if met else search.MISSED


def pass_results(by_rate: dict[int, CellDocument], slo_ms: float) -> list[PassResult]:
    """Each pass's bracket of the knee, from the repeats the search measured in it
    (a repeat's ``repeat`` is its pass; skipped ones were not measured)."""
    found: dict[int, search.Search] = {}
    grid = sorted(by_rate)
    for rate in grid:
        for repeat in by_rate[rate].repeats:
            if repeat.status == "skipped":
                continue
            index = int(repeat.repeat or 1)
            found.setdefault(index, search.Search(grid)).record(rate, outcome(repeat, slo_ms))
    return [found[index].bracket() for index in sorted(found)]


def sustained_rates(
    cells: Iterable[CellDocument | dict[str, Any]], slo_ms: float
) -> list[SustainedRate]:
    """One row per configuration swept open-loop: its sustained rate in each pass."""
    sweeps: dict[tuple, dict[int, CellDocument]] = defaultdict(dict)
    for cell in documents(cells):
        if cell.cell.rate:
            sweeps[cell.cell.sweep_key][cell.cell.rate] = cell
    rows = []
    for key, by_rate in sorted(sweeps.items()):
        rates = sorted(by_rate)
        passes = pass_results(by_rate, slo_ms)
        per_pass = [float(result.lower) for result in passes]
        resolutions = [r.resolution for r in passes if r.resolution is not None]
        scenario, endpoint, server, style, stack, db_mode = key
        rows.append(
            SustainedRate(
                scenario=scenario,
                endpoint=endpoint,
                server=server,
                style=style,
                stack=stack,
                db_mode=db_mode,
                rates=rates,
                slo_ms=slo_ms,
                per_pass=per_pass,
                passes=passes,
                resolution=max(resolutions) if resolutions else None,
                ended=sorted({r.ended for r in passes if r.ended}),
                at_least_top=bool(passes) and all(r.upper is None for r in passes),
                # passes that met the grid's top rate: their figure is a lower bound
                capped_passes=sum(1 for r in passes if r.capped),
                below_lowest=bool(passes) and all(r.lower == 0 for r in passes),
            )
        )
    return rows


def describe_rate(row: SustainedRate) -> str:
    """'400 req/s (passes: 400, 412, 395; each within 5%)', bounds said plainly."""
    values = sorted(row.per_pass)
    if not values:
        return "not measured"
    middle = values[len(values) // 2]
    capped = [r.capped for r in row.passes] or [False] * len(values)
    passes = ", ".join(
        f"{'>= ' if top else ''}{value:g}" for value, top in zip(row.per_pass, capped, strict=True)
    )
    if row.below_lowest:
        return f"below {row.rates[0]:g} req/s (the lowest rate swept)"
    prefix = ">= " if row.at_least_top else ""
    text = f"{prefix}{middle:g} req/s (passes: {passes}"
    if row.resolution is not None:
        # Only a bracketed pass has a resolution; a capped one is a lower bound.
        which = "each bracketed pass's" if any(capped) else "each pass's"
        text += f"; {which} knee within +{row.resolution:.1%} of its figure"
    if any(capped) and not row.at_least_top:
        text += (
            f"; {sum(capped)} of {len(capped)} passes met the top rate swept, "
            "so their figures are lower bounds"
        )
    if row.ended:
        text += "; " + ", ".join(f"a search ended: {why}" for why in row.ended)
    return text + ")"


def _pick(
    group: list[SustainedRate],
    interfaces: dict[str, str],
    interface: str,
    style: str,
    preference: tuple[str, ...],
) -> SustainedRate | None:
    """The preferred server of an interface with the given view style, if swept."""
    matching = [r for r in group if interfaces.get(r.server) == interface and r.style == style]
    return preferred(matching, lambda r: r.server, preference)


def headline_verdicts(
    rows: list[SustainedRate], interfaces: dict[str, str]
) -> list[SustainedVerdict]:
    """ASGI + async against WSGI + sync: the ratio of their sustained rates."""
    found = []
    groups: dict[tuple, list[SustainedRate]] = defaultdict(list)
    for row in rows:
        groups[(row.scenario, row.endpoint, row.stack, row.db_mode)].append(row)
    for (scenario, endpoint, _stack, _db), group in sorted(groups.items()):
        asgi = _pick(group, interfaces, "asgi", "async", ASGI_PREFERENCE)
        wsgi = _pick(group, interfaces, "wsgi", "sync", WSGI_PREFERENCE)
        if not (asgi and wsgi):
            continue
        result = compare(wsgi.per_pass, asgi.per_pass)
        found.append(
            SustainedVerdict(
                scenario=scenario,
                endpoint=endpoint,
                candidate=f"{asgi.server} {asgi.style}",
                baseline=f"{wsgi.server} {wsgi.style}",
                slo_ms=asgi.slo_ms,
                candidate_rate=describe_rate(asgi),
                baseline_rate=describe_rate(wsgi),
                metrics={"sustained rate": record(result)},
                bounded=bool(asgi.capped_passes or wsgi.capped_passes),
                loadgen_bound=bool(asgi.ended or wsgi.ended),
            )
        )
    return found


def describe_verdict(verdict: SustainedVerdict) -> str:
    """'io50: ASGI + async (uvicorn async) sustains x4.10 [3.2, 5.3] the rate of ...'."""
    metric = verdict.metrics["sustained rate"]
    ratio = metric_text(metric) if metric.ratio is not None else "an unknown multiple of"
    text = (
        f"{verdict.endpoint}: ASGI + async ({verdict.candidate}, "
        f"{verdict.candidate_rate}) sustains {ratio} the rate of WSGI + sync "
        f"({verdict.baseline}, {verdict.baseline_rate}) at p99 < {verdict.slo_ms:g} ms"
    )
    if verdict.bounded:
        text += "; the sweep's top rate bounds it: sweep higher for the full ratio"
    if verdict.loadgen_bound:
        text += "; the load generator bounded a search: its pass is a lower bound"
    return text
