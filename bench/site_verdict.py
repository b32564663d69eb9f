"""The plain-language verdict at the top of a site run's report.

A team measuring its own site asks four things: which configuration served
most, at what CPU per request and p99; how many sync<->async hops its
middleware and views make per request; and which one change would cut most
of them. The first two come from the cells' medians and their hop counts;
the change comes from what ``bench.site_check`` found in the project: a
sync-only middleware (Django then runs it, and everything above it, in a
thread under ASGI), a middleware whose sync hooks are each run through
sync_to_async, or a sync view.
"""

import statistics
from collections import defaultdict
from typing import Any

from bench.results import dig
from bench.site_check import HOOKS
from bench.stats import backed


def _median(cell: dict, metric: str) -> float | None:
    return dig(cell, ("summary", metric, "median"))


def _latency(cell: dict) -> str:
    """The highest percentile every repeat has samples enough for (p99 needs
    1,000 a repeat: a slow page in a 5 s window may not have them)."""
    for name, metric in (("p99", "p99_ms"), ("p90", "p90_ms"), ("p50", "p50_ms")):
        value = _median(cell, metric)
        if value is not None and backed(cell, name):
            note = "" if name == "p99" else " (too few requests a repeat for p99: --duration)"
            return f"{name} {value:.1f} ms{note}"
    return "too few requests a repeat for a latency percentile"


def _hops(cell: dict) -> float | None:
    """Median hops per request (both directions) over the cell's repeats."""
    values = []
    for repeat in cell.get("repeats", []):
        switches = repeat.get("switches") or {}
        s2a, a2s = (
            switches.get("sync_to_async_per_request"),
            switches.get("async_to_sync_per_request"),
        )
        if repeat.get("status") == "ok" and s2a is not None and a2s is not None:
            values.append(s2a + a2s)
    return statistics.median(values) if values else None


def hop_sources(facts: dict[str, Any], weights: dict[str, float]) -> list[tuple[str, float]]:
    """Who makes the hops under ASGI, from the in-process probe: the owner of each
    wrapped function (a middleware class or a view), hops per request weighted by
    how often each path is asked for, most first."""
    probe = facts.get("probe") or {}
    total = sum(weights.values()) or 1.0
    owners: dict[str, float] = defaultdict(float)
    for path, found in (probe.get("paths") or {}).items():
        share = weights.get(path, 0.0) / total
        for direction in ("sync_to_async", "async_to_sync"):
            for name, per_request in (found.get(direction) or {}).items():
                owners[_owner(name)] += per_request * share
    return sorted(owners.items(), key=lambda item: -item[1])


def _owner(function: str) -> str:
    """'pkg.mod.SessionMiddleware.process_request' -> 'pkg.mod.SessionMiddleware'."""
    head, _, last = function.rpartition(".")
    return head if last in HOOKS else function


def one_change(facts: dict[str, Any], weights: dict[str, float]) -> str | None:
    """The change that would cut most hops under ASGI, in a sentence."""
    sync_only = [m["path"] for m in facts.get("middleware") or [] if m.get("sync_only")]
    if sync_only:
        names = ", ".join(sync_only)
        return (
            f"make {names} async-capable: a sync-only middleware makes Django run it, "
            "and every middleware above it, in a thread under ASGI (a sync_to_async into "
            "the chain and an async_to_sync back out, per request)"
        )
    middleware = {m["path"] for m in facts.get("middleware") or []}
    sources = hop_sources(facts, weights)
    in_middleware = sum(hops for owner, hops in sources if owner in middleware)
    for owner, per_request in sources:
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
        if per_request >= 0.5:
            return (
                f"{owner} is sync: under ASGI it runs through sync_to_async "
                f"({per_request:.1f} hops per request); an async def version removes the hop, "
                "worth it when it waits on I/O"
            )
    return None


def verdict(run: dict[str, Any], cells: list[dict], interfaces: dict[str, str]) -> dict | None:
    """The verdict of a site run, or None for a run of the bundled project."""
    about = run.get("site")
    if not about:
        return None
    facts = about.get("facts") or {}
    closed = [
        c
        for c in cells
        if not c["cell"].get("rate")
        and c.get("status") in ("ok", "partial")
        and _median(c, "throughput_rps") is not None
    ]
    lines: list[str] = []
    best = max(closed, key=lambda c: _median(c, "throughput_rps") or 0.0, default=None)
    if best is None:
        lines.append("No configuration completed a measurement: see the failed cells below.")
    else:
        server = best["cell"]["server"]
        text = (
            f"{server} ({interfaces.get(server, '?').upper()}) served most: "
            f"{_median(best, 'throughput_rps'):,.0f} requests/s at "
            f"{_median(best, 'cpu_ms_per_request') or 0:.2f} ms of server CPU per request, "
            f"{_latency(best)}, with {best['cell']['users']} users"
        )
        if best.get("loadgen_bound"):
            text += " (locust was the limit: your site may serve more)"
        lines.append(text + ".")
    hop_lines = []
    for cell in closed:
        hops = _hops(cell)
        if hops is not None:
            server = cell["cell"]["server"]
            hop_lines.append(f"{hops:.1f} under {server} ({interfaces.get(server, '?').upper()})")
    if hop_lines:
        lines.append(
            "Sync<->async hops per request, measured in the server: " + "; ".join(hop_lines) + "."
        )
    weights = {str(path): float(weight) for path, weight in about.get("paths", [])}
    change = one_change(facts, weights)
    if change:
        lines.append(f"The one change that would cut most hops under ASGI: {change}.")
    return {
        "best": best["cell"]["id"] if best else None,
        "lines": lines,
        "hop_sources": hop_sources(facts, weights),
    }
