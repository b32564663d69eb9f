"""Which charts a run gets, and how an open-loop cell is named on them."""

from pathlib import Path

from bench.report import contents, drawing
from bench.report.charts import common

FULL_RUN = Path(__file__).resolve().parents[3] / "docs" / "runs" / "20261202T072517Z-bench"


def full_run_jobs() -> dict[str, tuple]:
    run = contents.read(FULL_RUN).run
    cells = contents.ordered_cells(run)
    jobs = drawing.chart_jobs(cells, contents.panels(cells), run.label, Path("charts"))
    return {title: args for title, _function, args in jobs}


def test_an_open_loop_cell_is_labelled_by_its_offered_rate():
    run = contents.read(FULL_RUN).run
    cells = {cell.id: cell for cell in contents.ordered_cells(run)}
    opened = cells["io.io50.gunicorn-gthread.sync.none.r200"]
    assert opened.cell.users != 200  # its user pool is not its load
    assert common.cell_label(opened).endswith(" · 200/s")
    closed = cells["io.io50.gunicorn-gthread.sync.none.u200"]
    assert common.cell_label(closed).endswith(" · 200 users")


def test_the_throughput_bars_leave_open_loop_cells_out_and_the_cpu_bars_keep_them():
    jobs = full_run_jobs()
    throughput = [cell for cells in jobs["Throughput"][0].values() for cell in cells]
    cpu = [cell for cells in jobs["Server CPU per request"][0].values() for cell in cells]
    assert throughput and not any(cell.cell.rate for cell in throughput)
    assert any(cell.cell.rate for cell in cpu)
    assert {cell.id for cell in throughput} == {cell.id for cell in cpu if not cell.cell.rate}
