"""The open-loop headline: the highest offered rate a configuration sustains
with its p99 under the latency objective.

A rate sweep (``--rate``) gives, for each configuration (server, view style,
endpoint, stack, database), one open-loop cell per offered rate. In each pass
of the run, a configuration's sustained rate is the highest rate at which it,
and every lower rate of the sweep, kept p99 (measured from each request's due
time) under the objective and was sustainable (achieved the offered rate,
dropped nothing, latency not growing through the window). The passes give one
value each, so the headline comes with its spread, and two configurations are
compared with the same statistics as every other verdict.

The sweep's grid bounds the answer: a configuration that met the objective at
every rate is "at least" the top rate; one that met it at none is "below" the
lowest.
"""

from collections import defaultdict
from typing import Any

from bench.matrix import Cell
from bench.stats import compare, supports
from bench.verdicts import ASGI_PREFERENCE, WSGI_PREFERENCE, metric_text, preferred, record


def _meets(repeat: dict[str, Any], slo_ms: float) -> bool:
    """Sustainable, and p99 under the objective. Where too few samples back the
    p99 (a slow rate in a short window), the maximum must be under it instead:
    never below the p99, so the check only gets stricter."""
    if repeat.get("status") != "ok":
        return False
    schedule = repeat.get("open_loop") or {}
    latency = repeat.get("latency_ms") or {}
    figure = latency.get("p99") if supports(latency, "p99") else latency.get("max")
    return bool(schedule.get("sustainable")) and figure is not None and figure < slo_ms


def sustained_rates(cells: list[dict[str, Any]], slo_ms: float) -> list[dict[str, Any]]:
    """One row per configuration swept open-loop: its sustained rate in each pass."""
    sweeps: dict[tuple, dict[int, dict]] = defaultdict(dict)
    for cell in cells:
        identity = cell["cell"]
        if identity.get("rate"):
            sweeps[Cell.from_dict(identity).sweep_key][identity["rate"]] = cell
    rows = []
    for key, by_rate in sorted(sweeps.items()):
        rates = sorted(by_rate)
        passes = max(len(cell.get("repeats", [])) for cell in by_rate.values())
        per_pass: list[float] = []
        for index in range(passes):
            best = 0.0
            for rate in rates:
                repeats = by_rate[rate].get("repeats", [])
                if index < len(repeats) and _meets(repeats[index], slo_ms):
                    best = float(rate)
                else:
                    break
            per_pass.append(best)
        scenario, endpoint, server, style, stack, db_mode = key
        rows.append(
            {
                "scenario": scenario,
                "endpoint": endpoint,
                "server": server,
                "style": style,
                "stack": stack,
                "db_mode": db_mode,
                "rates": rates,
                "slo_ms": slo_ms,
                "per_pass": per_pass,
                "at_least_top": all(value == rates[-1] for value in per_pass),
                "below_lowest": all(value == 0 for value in per_pass),
            }
        )
    return rows


def describe_rate(row: dict[str, Any]) -> str:
    """'400 req/s (passes: 400, 400, 300)', with the grid's bounds said plainly."""
    values = sorted(row["per_pass"])
    middle = values[len(values) // 2]
    passes = ", ".join(f"{value:g}" for value in row["per_pass"])
    if row["below_lowest"]:
        return f"below {row['rates'][0]:g} req/s (the lowest rate swept)"
    prefix = ">= " if row["at_least_top"] else ""
    return f"{prefix}{middle:g} req/s (passes: {passes})"


def _pick(
    group: list[dict],
    interfaces: dict[str, str],
    interface: str,
    style: str,
    preference: tuple[str, ...],
) -> dict | None:
    """The preferred server of an interface with the given view style, if swept."""
    matching = [
        r for r in group if interfaces.get(r["server"]) == interface and r["style"] == style
    ]
    return preferred(matching, lambda r: r["server"], preference)


def headline_verdicts(
    rows: list[dict[str, Any]], interfaces: dict[str, str]
) -> list[dict[str, Any]]:
    """ASGI + async against WSGI + sync: the ratio of their sustained rates."""
    found = []
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[(row["scenario"], row["endpoint"], row["stack"], row["db_mode"])].append(row)
    for (scenario, endpoint, _stack, _db), group in sorted(groups.items()):
        asgi = _pick(group, interfaces, "asgi", "async", ASGI_PREFERENCE)
        wsgi = _pick(group, interfaces, "wsgi", "sync", WSGI_PREFERENCE)
        if not (asgi and wsgi):
            continue
        result = compare(wsgi["per_pass"], asgi["per_pass"])
        found.append(
            {
                "scenario": scenario,
                "endpoint": endpoint,
                "candidate": f"{asgi['server']} {asgi['style']}",
                "baseline": f"{wsgi['server']} {wsgi['style']}",
                "slo_ms": asgi["slo_ms"],
                "candidate_rate": describe_rate(asgi),
                "baseline_rate": describe_rate(wsgi),
                "metrics": {"sustained rate": record(result)},
                "bounded": asgi["at_least_top"] or wsgi["at_least_top"],
            }
        )
    return found


def describe_verdict(verdict: dict[str, Any]) -> str:
    """'io50: ASGI + async (uvicorn async) sustains x4.10 [3.2, 5.3] the rate of ...'."""
    metric = verdict["metrics"]["sustained rate"]
    ratio = metric_text(metric) if metric["ratio"] is not None else "an unknown multiple of"
    text = (
        f"{verdict['endpoint']}: ASGI + async ({verdict['candidate']}, "
        f"{verdict['candidate_rate']}) sustains {ratio} the rate of WSGI + sync "
        f"({verdict['baseline']}, {verdict['baseline_rate']}) at p99 < {verdict['slo_ms']:g} ms"
    )
    if verdict["bounded"]:
        text += "; the sweep's top rate bounds it: sweep higher for the full ratio"
    return text
