"""A cost run against its baseline: the CI check's arithmetic and its verdict."""

import pytest

from bench.cli import formatter
from bench.cost import gate
from bench.cost.records import CostCell, CostDocument, CostRepeat, ValgrindRecord
from bench.errors import UsageError
from bench.plan.matrix import Cell
from bench.results import store as results


def _cell(endpoint: str, server: str, value: float) -> CostCell:
    return CostCell(
        cell=Cell("site", endpoint, server, "own", "own", 1),
        path=f"/{endpoint}/",
        status="ok",
        repeats=[CostRepeat(index=1, instructions_per_request=value)],
    )


def _document(cells: list[CostCell], django: str = "6.1.3") -> CostDocument:
    return CostDocument(
        created="2026-12-02T19:00:00+00:00",
        status="complete",
        valgrind=ValgrindRecord(version="valgrind-3.19.0", tool="cachegrind"),
        metadata={"python": "3.13.0", "packages": {"django": django, "locust": "2.47.0"}},
        cells=cells,
    )


def test_a_cell_that_grew_above_the_limit_fails_and_one_below_does_not():
    baseline = _document(
        [_cell("blog", "uvicorn", 2_000_000), _cell("blog", "gunicorn-gthread", 1e6)]
    )
    now = _document(
        [_cell("blog", "uvicorn", 2_050_000), _cell("blog", "gunicorn-gthread", 1.01e6)]
    )
    result = gate.compare(now, baseline, "base", limit=2.0)
    percents = {change.cell_id: round(change.percent, 6) for change in result.changes}
    assert percents == {
        "site.blog.uvicorn.own.own.u1": 2.5,
        "site.blog.gunicorn-gthread.own.own.u1": 1.0,
    }
    assert [change.over for change in result.changes] == [True, False]
    assert result.failed
    assert not gate.compare(now, baseline, "base", limit=3.0).failed
    assert not gate.compare(now, baseline, "base", limit=None).failed  # no limit: report only


def test_a_shrinking_cell_never_fails():
    baseline = _document([_cell("blog", "uvicorn", 2_000_000)])
    now = _document([_cell("blog", "uvicorn", 1_000_000)])
    (change,) = gate.compare(now, baseline, "base", limit=0.0).changes
    assert change.percent == -50.0 and not change.over


def test_new_and_gone_cells_are_listed_and_not_compared():
    baseline = _document([_cell("blog", "uvicorn", 2e6), _cell("old", "uvicorn", 1e6)])
    now = _document([_cell("blog", "uvicorn", 2e6), _cell("new", "uvicorn", 9e9)])
    result = gate.compare(now, baseline, "base", limit=1.0)
    assert result.new == ["site.new.uvicorn.own.own.u1"]
    assert result.gone == ["site.old.uvicorn.own.own.u1"]
    assert not result.failed


def test_what_else_changed_is_named_and_printed_with_the_verdict():
    baseline = _document([_cell("blog", "uvicorn", 2e6)], django="6.0.4")
    now = _document([_cell("blog", "uvicorn", 2.1e6)])
    result = gate.compare(now, baseline, "runs/base", limit=2.0)
    assert result.differences == ["django 6.0.4 -> 6.1.3"]
    lines = formatter.cost_gate(result)
    assert lines[0] == "against runs/base:"
    assert "+5.00%  GREW ABOVE THE LIMIT" in lines[1]
    assert lines[-2] == "  also changed since the baseline: django 6.0.4 -> 6.1.3"
    assert lines[-1] == "1 of 1 cells grew by more than 2%"


def test_a_baseline_is_a_cost_run_directory_or_its_file(tmp_path):
    document = _document([_cell("blog", "uvicorn", 2e6)])
    results.write_json(tmp_path / "cost.json", document.to_json())
    assert gate.read_baseline(tmp_path).cells[0].instructions_per_request == 2e6
    assert gate.read_baseline(tmp_path / "cost.json").status == "complete"
    with pytest.raises(UsageError, match=r"no cost\.json there"):
        gate.read_baseline(tmp_path / "missing")
    (tmp_path / "run").mkdir()
    results.write_json(tmp_path / "run" / "cost.json", {"kind": "run"})
    with pytest.raises(UsageError, match="is a run document"):
        gate.read_baseline(tmp_path / "run")
