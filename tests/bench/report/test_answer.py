"""The answer a report opens with, worded from committed runs' verdict rows."""

import re
from pathlib import Path

import pytest

from bench.report import answer, contents
from bench.results.rows import Metric, VerdictRow

ROOT = Path(__file__).resolve().parents[3]
RUN_A = ROOT / "tests" / "fixtures" / "runs" / "run_a"
FULL_RUN = ROOT / "docs" / "runs" / "20261202T072517Z-bench"  # a committed `make bench`


def metric(ratio, low, high, tested=True, significant=True, verdict="significant") -> Metric:
    return Metric(
        ratio=ratio,
        ci_low=low,
        ci_high=high,
        n_a=5,
        n_b=5,
        p_value=0.01 if tested else None,
        p_holm=0.01 if tested else None,
        significant=significant,
        verdict=verdict,
    )


def test_run_a_answers_in_words_with_the_rows_figures():
    # Read off run_a's rows: json throughput x0.365 [0.357, 0.373], CPU/request
    # x2.68 [2.61, 2.75]; io at 200 users throughput x11.5 [11.2, 11.8], its CPU untested.
    built = contents.read(RUN_A)
    assert built.question == answer.QUESTION
    texts = [sentence.text for sentence in built.answers]
    assert texts[0] == (
        "For json: WSGI + sync serves x2.74 the requests [2.68, 2.80] "
        "and uses x2.68 less CPU per request [2.61, 2.75]."
    )
    assert texts[2] == (
        "For io, 200 users: ASGI + async serves x11.5 the requests [11.2, 11.8]; "
        "CPU per request x1.82, not tested (no spread between repeats)."
    )
    # the rewrite question (async vs sync views) is left to the verdicts' list
    assert len(texts) == 3


def test_a_full_bench_answers_both_loops_and_says_a_bound():
    texts = [sentence.text for sentence in contents.read(FULL_RUN).answers]
    assert texts[0].startswith(
        "For io (50 ms of simulated slow I/O per request), 200 users: "
        "ASGI + async serves x13.7 the requests [12.6, 15.0]"
    )
    assert "(one side was load-generator bound" in texts[1]
    assert texts[3] == (
        "For json (TechEmpower's plaintext and json), open loop, at p99 < 100 ms: "
        "WSGI + sync sustains x1.97 the offered rate [1.74, 2.23] "
        "(a side met the sweep's top rate: the ratio is a bound)."
    )
    # open-loop pairs at one offered rate (one repeat each) are not headlines
    assert not any("/s offered" in text for text in texts)


@pytest.mark.parametrize("run_dir", [RUN_A, FULL_RUN], ids=["run_a", "full-bench"])
def test_every_figure_of_the_answer_is_a_rows_figure_or_its_reciprocal(run_dir):
    built = contents.read(run_dir)
    figures = set()
    for sentence in built.answers:
        for _, found in sentence.points:
            for value in (found.ratio, found.ci_low, found.ci_high):
                if value:
                    for digits in (3, 4):
                        figures |= {answer.times(value, digits), answer.times(1 / value, digits)}
    for sentence in built.answers:
        text = sentence.text.split(":", 1)[1]
        numbers = re.findall(r"x(\d[\d,]*(?:\.\d+)?)", text)
        numbers += [
            bound for pair in re.findall(r"\[([\d.,]+), ([\d.,]+)\]", text) for bound in pair
        ]
        assert numbers, sentence.text
        assert set(numbers) <= figures, sentence.text


def test_no_difference_and_a_failed_configuration_are_said_plainly():
    row = VerdictRow(
        question="ASGI + async vs WSGI + sync (10 users)",
        candidate="b",
        baseline="a",
        loadgen_bound=False,
        metrics={
            "throughput": metric(1.04, 0.95, 1.19, significant=False, verdict="not significant"),
            "CPU/request": metric(
                0.8, 0.7, 0.9, significant=False, verdict="not significant after Holm"
            ),
        },
    )
    sentence = answer.row_sentence("io", row, {"io": "io: 50 ms of sleep, swept."})
    assert sentence.text == (
        "For io (50 ms of sleep), 10 users: no throughput difference shown: "
        "x1.04 [0.950, 1.19]; no CPU per request difference shown: x0.800 [0.700, 0.900] "
        "(not significant after Holm)."
    )
    failed = VerdictRow(
        question="ASGI + async vs WSGI + sync",
        candidate="b",
        baseline="a",
        loadgen_bound=False,
        failed={"b": "failed every repeat"},
    )
    assert answer.row_sentence("io", failed, {}).text == (
        "For io: no ratio: `b` failed every repeat."
    )


def test_a_ratio_below_one_turns_with_its_interval_to_name_the_winner():
    won = metric(0.5, 0.4, 0.625)
    assert answer.clause("throughput", won, "ASGI + async", "WSGI + sync") == (
        "WSGI + sync",
        "serves x2.00 the requests [1.60, 2.50]",
    )
    # CPU per request: lower wins, so a ratio above 1 names the baseline as is
    assert answer.clause("CPU/request", metric(2.0, 1.6, 2.5), "A", "W") == (
        "W",
        "uses x2.00 less CPU per request [1.60, 2.50]",
    )


def test_a_significant_ratio_near_one_gets_the_digit_that_shows_it():
    near = metric(1.0012, 1.0004, 1.002)
    assert answer.clause("throughput", near, "A", "W") == (
        "A",
        "serves x1.001 the requests [1.000, 1.002]",
    )


def test_the_forest_points_keep_the_rows_orientation_and_judgement():
    points = answer.forest_points(contents.read(RUN_A).answers)
    labels = [point[0] for point in points]
    assert labels[:2] == ["json: throughput", "json: CPU per request"]
    json_throughput = points[0]
    assert json_throughput[1] == pytest.approx(0.3650479885946097)
    assert json_throughput[4] == "significant"
    untested = dict((point[0], point) for point in points)["io, 200 users: CPU per request"]
    assert untested[2] is None and untested[4] == "not tested"


PAIRED_RUN = ROOT / "docs" / "runs" / "20261202T154021Z-bench"  # a paired `make bench`


def test_a_metric_with_no_ratio_says_why_and_a_paired_verdict_says_so():
    assert answer.clause(
        "throughput", metric(None, None, None, tested=False, verdict="not tested (no data)"),
        "ASGI + async", "WSGI + sync",
    ) == (None, "throughput not tested (no data)")  # fmt: skip
    report = contents.read(PAIRED_RUN)  # one of its open-loop headlines has no ratio
    texts = [sentence.text for sentence in report.answers]
    assert any("paired over 13 passes" in text for text in texts), texts
