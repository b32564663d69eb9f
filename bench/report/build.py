"""``bench report``: the charts, report.md and a self-contained report.html of a run.

Everything is derived from the run directory alone (run.json and the cell
JSONs), so a report can be rebuilt at any time, on any machine, and a run
copied elsewhere is still readable. What the report says is computed first
(``bench.report.contents``), then drawn (``drawing``) and written (``pages``).
"""

import time
from pathlib import Path

from bench.report import answer, drawing, pages, switch_report
from bench.report.contents import Report, ordered_cells, panels, read, slo


def build(path: Path, charts: bool = True) -> Report:
    """Draw every chart and write report.md and report.html into the run directory.

    ``charts=False`` writes the documents without drawing (matplotlib is most of
    a report's time): for a caller that only reads the verdicts and caveats.
    """
    return write(read(path), charts=charts)


def write(report: Report, charts: bool = True) -> Report:
    """Draw the charts of a report's contents (unless ``charts`` is False), then
    write report.md and report.html beside them; ``seconds`` then counts both."""
    started = time.perf_counter()
    if charts:
        draw_charts(report)
    pages.write_markdown(report)
    pages.write_html(report)
    report.seconds += time.perf_counter() - started
    return report


def draw_charts(report: Report) -> None:
    """Every chart of the run, and the switch-cost fit when it ran the switches scenario."""
    run = report.run
    cells = ordered_cells(run)
    jobs = drawing.chart_jobs(cells, panels(cells), run.label, run.path / "charts", slo(run))
    points = answer.forest_points(report.answers)
    if points:
        names = answer.names(report.verdicts)
        jobs.insert(0, drawing.forest_job(points, names, run.label, run.path / "charts"))
    report.charts.update(drawing.draw_all(jobs))
    if any(cell.cell.scenario == "switches" for cell in cells):
        _, microbench = switch_report.load_microbench(run.path.parent)
        analysis = switch_report.analyse(run, microbench)
        for written in switch_report.write(run, analysis):
            if written.suffix == ".png":
                kind = written.stem.removeprefix("switch-fit-")
                report.charts[f"Switch cost fit ({kind})"] = written
