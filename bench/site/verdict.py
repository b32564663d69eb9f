"""The plain-language verdict at the top of a site run's report.

A team measuring its own site asks four things: which configuration served
most, at what CPU per request and p99; how many sync<->async hops its
middleware and views make per request; and which one change would cut most
of them. The first two come from the cells' medians and their hop counts;
the change comes from what ``bench.site.in_site.check`` found in the project: a
sync-only middleware (Django then runs it, and everything above it, in a
thread under ASGI), a middleware whose sync hooks are each run through
sync_to_async, a sync view, or a signal whose sync receivers are all theirs
(Django's own receivers and Django's own code are named as Django's, never as
a change to make).

A configuration that failed more than 1% of its requests is not ranked: the
verdict says that it failed, the exception its server raised, the setting
behind it when the inspection found one, and what to change.
"""

import statistics
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from bench.analyse.groups import documents, figure
from bench.analyse.stats import backed
from bench.analyse.verdicts import failure
from bench.results.records import CellDocument
from bench.results.records.site import SiteAbout, SiteFacts
from bench.results.rows import SiteVerdict
from bench.site.in_site.check import HOOKS
from bench.site.project import ASGI_CONNECTIONS_RULE, persistent_databases

DJANGO_MODULES = ("django.", "asgiref.")  # code the user cannot change in their project


def _latency(cell: CellDocument) -> str:
    """The highest percentile every repeat has samples enough for (p99 needs
    1,000 a repeat: a slow page in a 5 s window may not have them)."""
    for name, metric in (("p99", "p99_ms"), ("p90", "p90_ms"), ("p50", "p50_ms")):
        value = cell.median(metric)
        if value is not None and backed(cell, name):
            note = "" if name == "p99" else " (too few requests a repeat for p99: --duration)"
            return f"{name} {value:.1f} ms{note}"
    return "too few requests a repeat for a latency percentile"


def _hops(cell: CellDocument) -> float | None:
    """Median hops per request (both directions) over the cell's repeats."""
    values = []
    for repeat in cell.ok_repeats:
        s2a = figure(repeat, ("switches", "sync_to_async_per_request"))
        a2s = figure(repeat, ("switches", "async_to_sync_per_request"))
        if s2a is not None and a2s is not None:
            values.append(s2a + a2s)
    return statistics.median(values) if values else None


def hop_sources(facts: SiteFacts, weights: dict[str, float]) -> list[tuple[str, float]]:
    """Who makes the hops under ASGI, from the in-process probe: the owner of each
    wrapped function (a middleware class or a view), hops per request weighted by
    how often each path is asked for, most first."""
    paths = facts.probe.paths if facts.probe is not None else {}
    total = sum(weights.values()) or 1.0
    owners: dict[str, float] = defaultdict(float)
    for path, found in paths.items():
        share = weights.get(path, 0.0) / total
        for direction in ("sync_to_async", "async_to_sync"):
            for name, per_request in found.hops(direction).items():
                owners[_owner(name)] += per_request * share
    return sorted(owners.items(), key=lambda item: -item[1])


def _owner(function: str) -> str:
    """'pkg.mod.SessionMiddleware.process_request' -> 'pkg.mod.SessionMiddleware'."""
    head, _, last = function.rpartition(".")
    return head if last in HOOKS else function


def one_change(facts: SiteFacts, weights: dict[str, float]) -> str | None:
    """The change that would cut most hops under ASGI, in a sentence."""
    sync_only = [m.path for m in facts.middleware if m.sync_only]
    if sync_only:
        names = ", ".join(sync_only)
        return (
            f"make {names} async-capable: a sync-only middleware makes Django run it, "
            "and every middleware above it, in a thread under ASGI (a sync_to_async into "
            "the chain and an async_to_sync back out, per request)"
        )
    middleware = {m.path for m in facts.middleware}
    signals = facts.signals
    sources = hop_sources(facts, weights)
    in_middleware = sum(hops for owner, hops in sources if owner in middleware)
    for owner, per_request in sources:
        if owner in signals:
            # One hop runs every sync receiver of the signal: it goes only when
            # none is left, so only a signal whose sync receivers are all theirs
            # is a change they can make.
            hop = signals[owner]
            if hop.receivers and not any(map(is_djangos, hop.receivers)):
                names = ", ".join(hop.receivers)
                return (
                    f"your sync receiver{'s' if len(hop.receivers) > 1 else ''} {names} "
                    f"of {hop.signal} ({per_request:.1f} hops per request): Django sends it "
                    "with asend, which runs the sync receivers through sync_to_async; "
                    "async def receivers run on the event loop and remove the hop"
                )
            continue
        if owner in middleware and owner.startswith("django."):
            return (
                f"Django's own {owner} makes the most ({per_request:.1f} hops per request): "
                "Django's built-in middleware runs each of its sync hooks through "
                f"sync_to_async under ASGI ({in_middleware:.1f} hops per request from your "
                "MIDDLEWARE in all), so removing the middleware your site does not need is "
                "the lever"
            )
        if owner in middleware:
            return (
                f"give {owner} an async path (an async __acall__, or async hooks): each of its "
                f"sync hooks runs through sync_to_async under ASGI, {per_request:.1f} hops "
                "per request"
            )
        if per_request >= 0.5 and not is_djangos(owner):
            return (
                f"{owner} is sync: under ASGI it runs through sync_to_async "
                f"({per_request:.1f} hops per request); an async def version removes the hop, "
                "worth it when it waits on I/O"
            )
    return None


def is_djangos(name: str) -> bool:
    """Is this callable Django's (or asgiref's), not the user's to change?"""
    return name.startswith(DJANGO_MODULES)


def hop_labels(facts: SiteFacts, weights: dict[str, float]) -> list[tuple[str, float]]:
    """``hop_sources`` named for a reader: whose each one is, and for a signal's hop
    the sync receivers it runs (Django's or yours)."""
    signals = facts.signals
    labels = []
    for owner, hops in hop_sources(facts, weights):
        hop = signals.get(owner)
        if hop:
            receivers = ", ".join(
                f"{name} ({'Django' if is_djangos(name) else 'yours'})" for name in hop.receivers
            )
            label = f"{hop.signal} (sent with asend), its sync receivers {receivers}"
        else:
            label = f"{owner} ({'Django' if is_djangos(owner) else 'yours'})"
        labels.append((label, hops))
    return labels


def _peak_connections(cell: CellDocument) -> int | None:
    peaks = [figure(repeat, ("db", "connections_peak")) for repeat in cell.repeats]
    peaks = [peak for peak in peaks if peak is not None]
    return max(peaks) if peaks else None


def failed_line(cell: CellDocument, why: str, facts: SiteFacts, interfaces: dict[str, str]) -> str:
    """'uvicorn (ASGI) failed: ... no ratio ... The cause ... Set ...': the failure, its
    exception, the setting behind it when the inspection found one, what to change."""
    server = cell.cell.server
    interface = interfaces.get(server, "?")
    text = f"{server} ({interface.upper()}) {why}: it is not ranked and no ratio is given for it."
    peak = _peak_connections(cell)
    held = f" ({peak} connections were open on your database at the peak of the window)"
    persistent = persistent_databases(facts)
    if interface == "asgi" and persistent:
        settings = ", ".join(
            f"DATABASES[{alias!r}] has CONN_MAX_AGE={age!r}" for alias, age in persistent.items()
        )
        text += (
            f" The likely cause: {settings}. Under ASGI every request runs its sync code on a "
            "thread of its own, and each thread keeps its own persistent connection, so idle "
            f"connections pile up until the database refuses new ones{held if peak else ''}. "
            f'Django\'s documentation: "{ASGI_CONNECTIONS_RULE}" Set CONN_MAX_AGE = 0 for '
            'ASGI (on PostgreSQL, OPTIONS {"pool": True} pools the connections), '
            "then measure again."
        )
    else:
        text += (
            f"{held if peak else ''} Fix what the server raised (with DEBUG off Django logs "
            "nothing of it), then measure again."
        )
    return text


def verdict(
    run: dict[str, Any], cells: Iterable[CellDocument | dict], interfaces: dict[str, str]
) -> SiteVerdict | None:
    """The verdict of a site run, or None for a run of the bundled project."""
    if not run.get("site"):
        return None
    about = SiteAbout.from_json(run["site"])
    facts = about.facts or SiteFacts()
    lines: list[str] = []
    cells = documents(cells)
    failed = [(c, why) for c in cells if c.repeats and (why := failure(c))]
    failing = {c.id for c, _ in failed}
    closed = [
        c
        for c in cells
        if not c.cell.rate
        and c.status in ("ok", "partial")
        and c.id not in failing
        and c.median("throughput_rps") is not None
    ]
    best = max(closed, key=lambda c: c.median("throughput_rps") or 0.0, default=None)
    if best is None:
        lines.append("No configuration served without failing: see why below.")
    else:
        server = best.cell.server
        text = (
            f"{server} ({interfaces.get(server, '?').upper()}) served most: "
            f"{best.median('throughput_rps'):,.0f} requests/s at "
            f"{best.median('cpu_ms_per_request') or 0:.2f} ms of server CPU per request, "
            f"{_latency(best)}, with {best.cell.users} users"
        )
        if best.loadgen_bound:
            text += " (locust was the limit: your site may serve more)"
        lines.append(text + ".")
    lines += [failed_line(cell, why, facts, interfaces) for cell, why in failed]
    hop_lines = []
    for cell in closed:
        hops = _hops(cell)
        if hops is not None:
            server = cell.cell.server
            hop_lines.append(f"{hops:.1f} under {server} ({interfaces.get(server, '?').upper()})")
    if hop_lines:
        lines.append(
            "Sync<->async hops per request, measured in the server: " + "; ".join(hop_lines) + "."
        )
    held = [f"{peak} under {c.cell.server}" for c in cells if (peak := _peak_connections(c))]
    if held:
        counted = ", ".join(about.counted_databases or []) or "your database"
        lines.append(
            f"Connections open on {counted} at the peak of the window: " + "; ".join(held) + "."
        )
    weights = about.weights
    change = one_change(facts, weights)
    if change:
        lines.append(f"The one change that would cut most hops under ASGI: {change}.")
    return SiteVerdict(
        best=best.id if best else None,
        lines=lines,
        hop_sources=hop_sources(facts, weights),
        hop_labels=hop_labels(facts, weights),
        failed=sorted(failing),
    )
