"""Instructions beside CPU time: the share arithmetic, and the rows of two committed runs."""

import math
from pathlib import Path

import pytest

from bench import ROOT
from bench.cost import gate
from bench.report import beside, contents

RUNS = Path(ROOT) / "docs" / "runs"


def _row(cpu: float, instructions: float) -> beside.BesideRow:
    return beside.BesideRow("q", "b", "a", cpu, None, None, instructions, None)


def test_the_instructions_explain_their_share_of_the_cpu_ratio_on_a_log_scale():
    row = _row(4.0, 2.0)
    assert row.explained_share == pytest.approx(0.5)
    assert row.rest_ratio == 2.0
    assert _row(3.0, 3.0).explained_share == pytest.approx(1.0)
    assert _row(1.0, 1.2).explained_share is None  # no CPU difference to explain
    assert _row(1.24, 0.84).opposite and _row(1.24, 0.84).explained_share is None
    assert not _row(0.89, 0.84).opposite


def test_the_committed_runs_pair_each_verdict_with_its_two_cost_cells():
    report = contents.read(RUNS / "20261202T162507Z-bench")
    document = gate.read_baseline(RUNS / "20261202T162106Z-cost")
    rows = {row.question: row for row in beside.rows(report, document)}
    by_id = {cost.cell.id: cost.instructions_per_request for cost in document.cells}
    headline = rows["json: ASGI + async vs WSGI + sync (32 users)"]
    assert headline.instructions_ratio == pytest.approx(
        by_id["json.json.uvicorn.async.none.u1"] / by_id["json.json.gunicorn-gthread.sync.none.u1"]
    )
    cpu = next(
        row.metrics["CPU/request"]
        for row in report.verdicts["json"]
        if row.question == "ASGI + async vs WSGI + sync (32 users)"
    )
    assert headline.cpu_ratio == cpu.ratio
    assert headline.explained_share == pytest.approx(
        math.log(headline.instructions_ratio) / math.log(cpu.ratio)
    )
    assert set(rows) == {
        "json: ASGI + async vs WSGI + sync (32 users)",
        "json: async vs sync views, same ASGI server (32 users)",
    }
