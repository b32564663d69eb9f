"""Verdicts: the questions a run answers, as ratios with their significance.

Within a scenario, cells that differ only in server and view style are
paired: ASGI + async against WSGI + sync (the migration question), and, on
one ASGI server, async views against sync views (the rewrite question).
Every ratio comes with Welch's t-test over the repeats, and "not
significant" is said plainly.
"""

from collections import defaultdict
from typing import Any

from bench.results import repeat_values
from bench.stats import compare

WSGI_PREFERENCE = ("gunicorn-gthread", "gunicorn-sync", "granian-wsgi")
ASGI_PREFERENCE = ("uvicorn", "gunicorn-uvicorn", "gunicorn-asgi", "granian-asgi", "hypercorn")
METRICS = (
    ("throughput", ("throughput_rps",)),
    ("p99", ("latency_ms", "p99")),
    ("CPU/request", ("server", "cpu_ms_per_request")),
)


def _pick(
    cells: list[dict],
    interface: str,
    view: str,
    interfaces: dict[str, str],
    preference: tuple[str, ...],
) -> dict | None:
    matching = [
        c
        for c in cells
        if interfaces.get(c["cell"]["server"]) == interface
        and c["cell"]["style"] == view
        and c["status"] in ("ok", "partial")
    ]
    matching.sort(
        key=lambda c: (
            preference.index(c["cell"]["server"]) if c["cell"]["server"] in preference else 99
        )
    )
    return matching[0] if matching else None


def pair(candidate: dict, baseline: dict, question: str) -> dict[str, Any]:
    """Ratios candidate / baseline with their tests."""
    row: dict[str, Any] = {
        "question": question,
        "candidate": candidate["cell"]["id"],
        "baseline": baseline["cell"]["id"],
        "loadgen_bound": bool(candidate.get("loadgen_bound") or baseline.get("loadgen_bound")),
        "metrics": {},
    }
    for name, keys in METRICS:
        result = compare(repeat_values(baseline, keys), repeat_values(candidate, keys))
        row["metrics"][name] = {
            "ratio": result.ratio,
            "p_value": result.p_value,
            "significant": result.significant,
            "verdict": result.verdict,
        }
    return row


def verdicts(cells: list[dict], interfaces: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """For each scenario, the paired comparisons its cells allow."""
    by_scenario: dict[str, dict[tuple, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for cell in cells:
        identity = cell["cell"]
        key = (
            identity["endpoint"],
            identity["stack"],
            identity["users"],
            identity.get("db_mode", ""),
        )
        by_scenario[identity["scenario"]][key].append(cell)
    found: dict[str, list[dict[str, Any]]] = {}
    for scenario, groups in by_scenario.items():
        rows = []
        for group in groups.values():
            wsgi_sync = _pick(group, "wsgi", "sync", interfaces, WSGI_PREFERENCE)
            asgi_async = _pick(group, "asgi", "async", interfaces, ASGI_PREFERENCE)
            if wsgi_sync and asgi_async:
                rows.append(pair(asgi_async, wsgi_sync, "ASGI + async vs WSGI + sync"))
            if asgi_async:
                same_server = [
                    c
                    for c in group
                    if c["cell"]["server"] == asgi_async["cell"]["server"]
                    and c["cell"]["style"] == "sync"
                    and c["status"] in ("ok", "partial")
                ]
                if same_server:
                    rows.append(
                        pair(asgi_async, same_server[0], "async vs sync views, same ASGI server")
                    )
        if rows:
            found[scenario] = rows
    return found


def describe(row: dict[str, Any]) -> str:
    """'throughput x2.30, p99 x0.41 (not significant), CPU/request x1.80'."""
    parts = []
    for name, metric in row["metrics"].items():
        if metric["ratio"] is None:
            parts.append(f"{name} n/a")
            continue
        text = f"{name} x{metric['ratio']:.2f}"
        if not metric["significant"]:
            text += " (not significant)"
        parts.append(text)
    return ", ".join(parts)
