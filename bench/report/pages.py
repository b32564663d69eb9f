"""The documents of a report: report.md and a self-contained report.html.

Both render the same context from ``templates/``; the HTML embeds its charts
so that it can be mailed or archived alone.
"""

import base64
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from bench.analyse import held, stats, sustained, verdicts
from bench.numbers import fmt
from bench.report import drawing
from bench.report.contents import Report, ordered_cells
from bench.results.records import CellDocument

TEMPLATES = Path(__file__).resolve().parent / "templates"


def other_times(cells: list[CellDocument]) -> list[dict[str, Any]]:
    """Every request name of a cell that recorded several, from its first
    successful repeat: a site's pages or a locustfile's tasks (all counted in the
    cell's figures), or times a scenario recorded beside its headline (time to
    first byte, headers...), which are not."""
    rows = []
    for cell in cells:
        repeat = next(iter(cell.ok_repeats), None)
        if not repeat or len(repeat.latency_by_name) < 2:
            continue
        # Records older than counted_names counted their one primary name.
        counted = repeat.counted_names or [repeat.primary]
        failures = repeat.failures_by_name or {}
        for name, latency in sorted(repeat.latency_by_name.items()):
            rows.append(
                {
                    "cell": cell.id,
                    "name": name,
                    "counted": name in counted,
                    "failures": failures.get(name, 0),
                    "p50": percentile_text(latency.p50, stats.supports(latency, "p50")),
                    "p99": stats.BEYOND_ANSWERS
                    if latency.unanswered and latency.p99 is None
                    else percentile_text(latency.p99, stats.supports(latency, "p99")),
                    "count": latency.count,
                }
            )
    return rows


def percentile_text(value: float | None, supported: bool) -> str:
    """A latency percentile in ms, or "too few samples" when its count does not back it."""
    if value is None:
        return "-"
    return f"{value:.2f}" if supported else stats.TOO_FEW_SAMPLES


def cell_percentile(cell: CellDocument, name: str) -> str:
    """The median over repeats of percentile ``name`` ("p99_9") of a cell, gated per repeat."""
    if stats.beyond_answers(cell, name):
        return stats.BEYOND_ANSWERS
    return percentile_text(cell.median(f"{name}_ms"), stats.backed(cell, name))


def abandoned_work(cells: list[CellDocument]) -> list[dict[str, Any]]:
    """What the server did with requests whose clients left: cleanups (an async
    view cancelled) and completions (a view that ran to its end for nobody)."""
    rows = []
    for cell in cells:
        for repeat in cell.ok_repeats:
            switches = repeat.switches
            if switches is None or not (
                switches.disconnect_cleanups or switches.disconnect_completed
            ):
                continue
            abandoned = repeat.requests or 1
            rows.append(
                {
                    "cell": cell.id,
                    "repeat": repeat.repeat,
                    "abandoned": abandoned,
                    "cleanups": switches.disconnect_cleanups / abandoned,
                    "completed": switches.disconnect_completed / abandoned,
                }
            )
            break
    return rows


def _context(report: Report) -> dict[str, Any]:
    cells = ordered_cells(report.run)
    return {
        "other_times": other_times(cells),
        "abandoned": abandoned_work(cells),
        "label": report.run.label,
        "site": report.site,
        "site_about": report.run.data.get("site"),
        "environment": report.environment,
        "verdicts": {
            scenario: [(row, verdicts.describe(row)) for row in rows]
            for scenario, rows in report.verdicts.items()
        },
        "question": report.question,
        "answers": [sentence.text for sentence in report.answers],
        "forest": drawing.FOREST,
        "caveats": report.caveats,
        "cell_notes": report.cell_notes,
        "cells": cells,
        # a column for the database's CPU only when some cell measured it
        "db_cpu": any(cell.median("db_cpu_ms_per_request") is not None for cell in cells),
        # the kernel's columns only for runs that read every thread's switches
        "kernel": any(cell.median("ctx_per_request") is not None for cell in cells),
        "sustained": [(row, sustained.describe_rate(row)) for row in report.sustained],
        "sustained_verdicts": [sustained.describe_verdict(v) for v in report.sustained_verdicts],
        "held": [held.describe(row) for row in report.held],
        "beside": report.beside,
        "cost_run": report.cost_run,
    }


def _jinja() -> Environment:
    environment_ = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment_.filters["num"] = fmt
    environment_.globals["percentile"] = cell_percentile
    return environment_


def write_markdown(report: Report) -> Path:
    charts = {
        title: path.relative_to(report.run.path).as_posix() for title, path in report.charts.items()
    }
    text = _jinja().get_template("report.md.j2").render(charts=charts, **_context(report))
    target = report.run.path / "report.md"
    target.write_text(text)
    return target


def write_html(report: Report) -> Path:
    charts = {
        title: "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()
        for title, path in report.charts.items()
    }
    text = _jinja().get_template("report.html.j2").render(charts=charts, **_context(report))
    target = report.run.path / "report.html"
    target.write_text(text)
    return target
