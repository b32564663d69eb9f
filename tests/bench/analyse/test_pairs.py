"""Which cells a run measures back to back, and the paired interval of a verdict."""

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from bench.analyse import pairs, verdicts
from bench.analyse.stats import compare, compare_paired, half_width
from bench.plan import matrix
from bench.results.records import CellDocument, RepeatRecord

INTERFACES = {"gunicorn-gthread": "wsgi", "gunicorn-sync": "wsgi", "uvicorn": "asgi"}


def cell(server: str, style: str, endpoint: str = "json", rate: int = 0) -> matrix.Cell:
    return matrix.Cell("json", endpoint, server, style, "none", 32, rate=rate)


def test_the_migration_and_rewrite_questions_are_the_pairs_and_one_block():
    cells = [cell(s, v) for s in INTERFACES for v in ("sync", "async")]
    found = pairs.compared_pairs(cells, INTERFACES)
    names = [(a.server, a.style, b.server, b.style) for a, b in found]
    # gthread is the preferred WSGI server, as in the verdicts
    assert names == [
        ("gunicorn-gthread", "sync", "uvicorn", "async"),
        ("uvicorn", "sync", "uvicorn", "async"),
    ]
    blocks = pairs.blocks(cells, found)
    blocked = [b for b in blocks if len(b) > 1]
    assert [sorted(c.id for c in b) for b in blocked] == [
        sorted(c.id for c in cells if (c.server, c.style) in {
            ("gunicorn-gthread", "sync"), ("uvicorn", "sync"), ("uvicorn", "async")})
    ]  # fmt: skip
    assert sum(len(b) for b in blocks) == len(cells)  # every cell in one block
    assert pairs.blocked_ids([[c.id for c in blocked[0]]]) == {
        frozenset((a.id, b.id)) for a, b in found
    } | {frozenset((found[0][0].id, found[1][0].id))}


def test_open_loop_cells_and_other_endpoints_are_not_paired_with_each_other():
    cells = [cell("gunicorn-gthread", "sync", rate=200), cell("uvicorn", "async", rate=200),
             cell("gunicorn-gthread", "sync", "io"), cell("uvicorn", "async", "json")]  # fmt: skip
    assert pairs.compared_pairs(cells, INTERFACES) == []


def test_the_paired_interval_is_the_t_interval_of_the_log_ratios():
    a = [100.0, 140.0, 80.0, 120.0]
    b = [110.0, 150.0, 90.0, 130.0]
    found = compare_paired(list(zip(a, b, strict=True)))
    logs = np.log(b) - np.log(a)
    expected = scipy_stats.t.interval(0.95, 3, loc=logs.mean(), scale=scipy_stats.sem(logs))
    assert found.ratio == pytest.approx(math.exp(logs.mean()))
    assert (found.ci_low, found.ci_high) == pytest.approx(tuple(np.exp(expected)))
    assert found.n_a == found.n_b == 4 and found.significant
    # the same values unpaired: the drift between passes is noise, not significant
    assert not compare(a, b).significant
    assert half_width(found.ci_low, found.ci_high) < half_width(
        compare(a, b).ci_low, compare(a, b).ci_high
    )


def test_a_pair_with_a_missing_side_is_dropped_and_one_pair_is_not_tested():
    assert compare_paired([(1.0, None), (2.0, 4.0)]).verdict == "not tested (1 pair)"
    assert compare_paired([(1.0, 0.0), (2.0, 4.0)]).verdict == "not tested (a value <= 0)"
    assert half_width(0.95, 0.95 * 1.05**2) == pytest.approx(0.05)


def repeat(number: int, throughput: float, cpu: float) -> RepeatRecord:
    return RepeatRecord.from_json({
        "status": "ok", "repeat": number, "error_rate": 0.0, "throughput_rps": throughput,
        "latency_ms": {"p99": 10.0, "count": 50}, "server": {"cpu_ms_per_request": cpu},
    })  # fmt: skip


def document(c: matrix.Cell, throughputs: list[float]) -> CellDocument:
    return CellDocument(cell=c, repeats=[repeat(i, t, 1000 / t) for i, t in
                                         enumerate(throughputs, start=1)])  # fmt: skip


def test_a_blocked_verdict_is_paired_and_keeps_the_unpaired_figure_beside_it():
    a = document(cell("gunicorn-gthread", "sync"), [100.0, 140.0, 80.0, 120.0])
    b = document(cell("uvicorn", "async"), [110.0, 150.0, 90.0, 130.0])
    row = verdicts.pair(b, a, "q", {frozenset((a.id, b.id))})
    assert row.pairing == "paired"
    assert row.metrics["throughput"].significant and not row.unpaired["throughput"].significant
    assert row.metrics["p99"].verdict == "not tested (too few samples)"
    assert "paired over 4 passes" in verdicts.describe(row)
    assert row.to_json()["unpaired"]["throughput"]["ratio"] == pytest.approx(
        row.metrics["throughput"].ratio, rel=0.02
    )
    unblocked = verdicts.pair(b, a, "q", set())
    assert unblocked.pairing == "unpaired" and unblocked.unpaired is None
    assert "not measured back to back" in verdicts.describe(unblocked)
    old = verdicts.pair(b, a, "q")  # a run from before blocks
    assert old.pairing is None and "pairing" not in old.to_json()
