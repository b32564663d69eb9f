"""``bench report`` of a cost run: report.md and the chart by release.

A cost run's figures are counts, so its report is a table and one chart,
not the timed report's verdicts: the cells with their spread, their ratio
to WSGI + sync of the same release, hops and system calls, and where the
run measured several releases, each cell across them with the change from
the first. Rebuilt from ``cost.json`` alone, like every report.
"""

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader

from bench.cost import execute
from bench.cost.measure import disagreements
from bench.cost.records import CostCell, CostDocument
from bench.numbers import fmt

TEMPLATES = Path(__file__).parent / "templates"
REPORT = "report.md"


@dataclass(frozen=True)
class CostRow:
    """One cell's line of the table, its figures already worded."""

    id: str
    release: str
    value: str
    repeats: int
    spread: str
    ratio: str
    hops: str
    syscalls: str


def _millions(value: float | None) -> str:
    return fmt(None if value is None else value / 1e6, "{:.3f} M", none="failed")


def _rows(document: CostDocument) -> list[CostRow]:
    ratios = execute.ratios(document)
    rows = []
    for cost in document.cells:
        rows.append(
            CostRow(
                id=cost.cell.id if cost.cell else "?",
                release=cost.release or "-",
                value=_millions(cost.instructions_per_request),
                repeats=len(cost.repeats),
                spread=fmt(cost.spread_percent, "{:.2f}%", none="-"),
                ratio=fmt(ratios.get(cost.label), "x{:.2f}", none="-"),
                hops=fmt(cost.hops.per_request if cost.hops else None, "{:g}", none="-"),
                syscalls=fmt(
                    cost.syscalls.per_request if cost.syscalls else None, "{:.1f}", none="-"
                ),
            )
        )
    return rows


def releases(document: CostDocument) -> list[str]:
    """The releases measured, in the order the run measured them."""
    return list(dict.fromkeys(cost.release for cost in document.cells if cost.release))


def by_release(document: CostDocument) -> list[tuple[str, list[str]]]:
    """Each cell across the releases: its figure and the change from the first."""
    order = releases(document)
    table: dict[str, dict[str, CostCell]] = {}
    for cost in document.cells:
        if cost.cell is not None and cost.release:
            table.setdefault(cost.cell.id, {})[cost.release] = cost
    lines = []
    for cell_id, cells in table.items():
        first = cells.get(order[0]) if order else None
        base = first.instructions_per_request if first else None
        figures = []
        for release in order:
            value = cells[release].instructions_per_request if release in cells else None
            text = _millions(value) if release in cells else "-"
            if value is not None and base and release != order[0]:
                text += f" ({fmt(100 * (value / base - 1), '{:+.1f}%')})"
            figures.append(text)
        lines.append((cell_id, figures))
    return lines


def chart_bars(document: CostDocument) -> list[tuple[str, str, float]]:
    """The chart's bars: (server / style / stack, release, instructions per request)."""
    bars = []
    for cost in document.cells:
        value = cost.instructions_per_request
        if cost.cell is None or value is None:
            continue
        cell = cost.cell
        group = f"{cell.endpoint}\n{cell.server} {cell.style} {cell.stack}"
        bars.append((group, cost.release or "", value))
    return bars


def notes(document: CostDocument) -> list[str]:
    """Failed cells, and repeats out of line with their cell's median."""
    found = [f"`{c.label}` failed: {c.error}" for c in document.cells if c.error]
    return found + disagreements(document.cells)


def write(run_dir: Path, document: CostDocument, charts: bool = True) -> Path:
    """Write report.md (and the chart) into the cost run's directory."""
    chart = None
    bars = chart_bars(document)
    if charts and bars:
        from bench.report.charts import cost as cost_chart

        written = cost_chart.by_release(
            bars, f"Instructions per request - {run_dir.name}", run_dir / "charts" / "cost"
        )
        chart = written[0].relative_to(run_dir)
    tool = document.valgrind
    settings = document.settings
    environment = ", ".join(f"{k}={v}" for k, v in (tool.environment if tool else {}).items())
    text = (
        Environment(loader=FileSystemLoader(TEMPLATES), trim_blocks=True, lstrip_blocks=True)
        .get_template("cost.md.j2")
        .render(
            run_name=run_dir.name,
            status=document.status,
            valgrind=tool.version if tool else "valgrind",
            options=" ".join(tool.options) if tool else "",
            environment=environment or "no fixed environment",
            low=settings.low_requests if settings else "?",
            high=settings.high_requests if settings else "?",
            chart=chart,
            cells=_rows(document),
            releases=releases(document),
            by_release=by_release(document),
            hop_lines=[
                f"{hop.group}: {fmt(hop.instructions_per_hop / 1e3, '{:,.1f}')} k instructions "
                f"a hop ({hop.low.cell.endpoint if hop.low.cell else '?'} -> "
                f"{hop.high.cell.endpoint if hop.high.cell else '?'}, {fmt(hop.hops, '{:g}')} "
                "more hops a request)"
                for hop in execute.hop_costs(document)
            ],
            notes=notes(document),
        )
    )
    path = run_dir / REPORT
    path.write_text(text)
    return path
