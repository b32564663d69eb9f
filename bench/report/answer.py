"""The answer a report opens with: the run's question, and its verdicts in words.

A reader opens a report to learn whether ASGI + async beats WSGI + sync for
the views measured, not to read cell ids. Each headline verdict (the migration
question, closed loop; each open-loop sustained rate) becomes one sentence that
names the winner and its ratio with the 95% interval, turned so that the figure
is at least 1 ("WSGI + sync uses x3.01 less CPU per request [2.67, 3.40]").
Every number is a row's ratio or interval bound, or its reciprocal: the
statistics stay in bench.analyse.verdicts, and this module only words them.
"""

from dataclasses import dataclass

from bench.analyse import verdicts
from bench.results.rows import Metric, SustainedVerdict, VerdictRow

# The headline questions (bench.analyse.verdicts' wording): candidate, baseline.
HEADLINES = {
    "ASGI + async vs WSGI + sync": ("ASGI + async", "WSGI + sync"),
    "ASGI vs WSGI for your site": ("ASGI", "WSGI"),
}
QUESTION = (
    "Should these Django views be served by WSGI with sync views or by ASGI with async views?"
)
SITE_QUESTION = "Should your site be served through ASGI or through WSGI?"
# Each compared metric in words: its name, the verb and object of a winner, and
# which direction wins.
WORDS = {
    "throughput": ("throughput", "serves", "the requests", "higher"),
    "CPU/request": ("CPU per request", "uses", "less CPU per request", "lower"),
    "p99": ("p99 latency", "answers with", "less p99 latency", "lower"),
    "sustained rate": ("sustained rate", "sustains", "the offered rate", "higher"),
}


@dataclass
class Sentence:
    """One answer: its scenario, the text, and the rows' metrics it words, each
    with its label on the forest plot ("io, 200 users: throughput")."""

    scenario: str
    text: str
    points: list[tuple[str, Metric]]


def times(value: float, digits: int = 3) -> str:
    """A ratio as the answer prints it, to three significant figures: 'x13.7', 'x3.40'."""
    return f"{value:,.0f}" if value >= 100 else f"{value:#.{digits}g}"


def interval(low: float | None, high: float | None, digits: int = 3) -> str:
    if low is None or high is None:
        return ""
    return f" [{times(low, digits)}, {times(high, digits)}]"


def clause(name: str, metric: Metric, candidate: str, baseline: str) -> tuple[str | None, str]:
    """One metric in words: (the winner, what it does), or (None, that no
    difference shows or why it was not tested)."""
    label, verb, what, good = WORDS[name]
    if metric.ratio is None:
        return None, f"{label} {metric.verdict}"
    shown = f"x{times(metric.ratio)}{interval(metric.ci_low, metric.ci_high)}"
    if not metric.tested:
        why = metric.verdict.removeprefix("not tested (").removesuffix(")")
        return None, f"{label} {shown}, not tested ({why})"
    if not metric.significant:
        after = f" ({metric.verdict})" if "Holm" in metric.verdict else ""
        return None, f"no {label} difference shown: {shown}{after}"
    candidate_wins = (metric.ratio > 1) == (good == "higher")
    if metric.ratio >= 1:
        ratio, low, high = metric.ratio, metric.ci_low, metric.ci_high
    else:  # turned so that the figure is at least 1: its interval turns with it
        ratio = 1 / metric.ratio
        low = 1 / metric.ci_high if metric.ci_high else None
        high = 1 / metric.ci_low if metric.ci_low else None
    winner = candidate if candidate_wins else baseline
    # a significant ratio that rounds to 1.00 gets the digit that shows it is not 1
    digits = 4 if times(ratio) == "1.00" else 3
    return winner, f"{verb} x{times(ratio, digits)} {what}{interval(low, high, digits)}"


def joined(clauses: list[tuple[str | None, str]]) -> str:
    """Clauses in one sentence; a winner named once for consecutive clauses it wins."""
    parts: list[str] = []
    previous = None
    for winner, text in clauses:
        if winner is not None and winner == previous:
            parts[-1] += f" and {text}"
        else:
            parts.append(f"{winner} {text}" if winner else text)
        previous = winner
    return "; ".join(parts)


def about(scenario: str, docs: dict[str, str]) -> str:
    """'json (TechEmpower's plaintext and json, the purely CPU-bound case)': the
    scenario and the first line of its docstring, which says what its view does."""
    first = (docs.get(scenario) or "").strip().splitlines()[:1]
    if not first or ":" not in first[0]:
        return scenario
    summary = first[0].split(":", 1)[1].split(", ")[0].strip().rstrip(".")
    return f"{scenario} ({summary})" if summary else scenario


def row_sentence(scenario: str, row: VerdictRow, docs: dict[str, str]) -> Sentence:
    """A headline verdict row in words: throughput and CPU per request."""
    prefix = next(question for question in HEADLINES if row.question.startswith(question))
    candidate, baseline = HEADLINES[prefix]
    where = row.question.removeprefix(prefix).strip().removeprefix("(").removesuffix(")")
    head = f"For {about(scenario, docs)}{', ' + where if where else ''}: "
    label = f"{scenario}{', ' + where if where else ''}"
    if row.failed:
        return Sentence(scenario, head + verdicts.describe(row) + ".", [])
    shown = [name for name in ("throughput", "CPU/request") if name in row.metrics]
    text = head + joined([clause(name, row.metrics[name], candidate, baseline) for name in shown])
    if row.loadgen_bound:
        text += " (one side was load-generator bound: its throughput is a lower bound)"
    text += verdicts.pairing_text(row).replace(";", ",", 1)
    points = [(f"{label}: {WORDS[name][0]}", row.metrics[name]) for name in shown]
    return Sentence(scenario, text + ".", points)


def sustained_sentence(verdict: SustainedVerdict, docs: dict[str, str]) -> Sentence:
    """An open-loop headline in words: the rate each side sustains under the objective."""
    metric = verdict.metrics["sustained rate"]
    candidate, baseline = HEADLINES["ASGI + async vs WSGI + sync"]
    text = (
        f"For {about(verdict.scenario, docs)}, open loop, at p99 < {verdict.slo_ms:g} ms: "
        + joined([clause("sustained rate", metric, candidate, baseline)])
    )
    if verdict.bounded:
        text += " (a side met the sweep's top rate: the ratio is a bound)"
    label = f"{verdict.scenario}, open loop: sustained rate at p99 < {verdict.slo_ms:g} ms"
    return Sentence(verdict.scenario, text + ".", [(label, metric)])


def headline_rows(rows: dict[str, list[VerdictRow]]) -> list[tuple[str, VerdictRow]]:
    """The closed-loop rows that answer a headline question, by scenario; an
    open-loop cell pair at one offered rate (one repeat) is left to its table."""
    return [
        (scenario, row)
        for scenario, scenario_rows in rows.items()
        for row in scenario_rows
        if row.question.startswith(tuple(HEADLINES)) and " offered" not in row.question
    ]


def sentences(
    rows: dict[str, list[VerdictRow]],
    sustained: list[SustainedVerdict],
    docs: dict[str, str],
) -> list[Sentence]:
    """The answer's sentences: each headline row, then each open-loop headline."""
    found = [row_sentence(scenario, row, docs) for scenario, row in headline_rows(rows)]
    return found + [sustained_sentence(verdict, docs) for verdict in sustained]


def names(rows: dict[str, list[VerdictRow]]) -> tuple[str, str]:
    """The candidate and baseline of the run's headline: a site's, or the views'."""
    if question(rows) == SITE_QUESTION:
        return HEADLINES["ASGI vs WSGI for your site"]
    return HEADLINES["ASGI + async vs WSGI + sync"]


def forest_points(
    found: list[Sentence],
) -> list[tuple[str, float, float | None, float | None, str, str]]:
    """The answers' ratios as the forest plot draws them (plain tuples, which
    pickle into a chart worker): label, ratio, interval, how it was judged
    ("significant", "not significant", "not tested") and the figure's text."""
    points = []
    for sentence in found:
        for label, metric in sentence.points:
            if metric.ratio is None:
                continue
            judged = (
                "not tested"
                if not metric.tested
                else "significant"
                if metric.significant
                else "not significant"
            )
            text = f"x{times(metric.ratio)}{interval(metric.ci_low, metric.ci_high)}"
            points.append((label, metric.ratio, metric.ci_low, metric.ci_high, judged, text))
    return points


def question(rows: dict[str, list[VerdictRow]]) -> str:
    """The question the run asks: a site's own, or the views' migration question."""
    asked = [row.question for scenario_rows in rows.values() for row in scenario_rows]
    if any(text.startswith("ASGI vs WSGI for your site") for text in asked):
        return SITE_QUESTION
    return QUESTION
