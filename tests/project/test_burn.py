"""The burn workload spends a known amount of CPU: the harness's calibration."""

import json
import threading
import time

import pytest

from project.workloads import responses


def _thread_ms(work) -> float:
    """Milliseconds of this thread's CPU time that ``work()`` takes."""
    before = time.thread_time_ns()
    work()
    return (time.thread_time_ns() - before) / 1e6


def test_a_burn_of_20_ms_spends_20_ms_of_thread_cpu():
    spent = _thread_ms(lambda: responses.burn(20))
    assert 20 <= spent < 30


@pytest.mark.parametrize("ms", [0, -3])
def test_a_burn_of_nothing_returns_at_once(ms):
    assert _thread_ms(lambda: responses.burn(ms)) < 1


def test_each_thread_pays_its_own_burn_whatever_else_runs():
    # Three threads contend for the GIL (and two cores): each still spends its
    # own 20 ms, since waiting for the GIL costs no thread CPU time.
    spent: list[float] = []

    def one() -> None:
        spent.append(_thread_ms(lambda: responses.burn(20)))

    threads = [threading.Thread(target=one) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(spent) == 3
    assert all(20 <= ms < 30 for ms in spent), spent


@pytest.mark.parametrize("style", ["sync", "async"])
@pytest.mark.parametrize(
    ("query", "expected"), [("", 5), ("?ms=abc", 5), ("?ms=7", 7), ("?ms=99999", 1000)]
)
def test_the_views_burn_the_clamped_amount(
    handlers, request_via, monkeypatch, style, query, expected
):
    burned: list[int] = []
    monkeypatch.setattr(responses, "burn", burned.append)
    reply = request_via("asgi", handlers("none")[1], f"/{style}/burn{query}")
    assert reply.status == 200
    assert json.loads(reply.body) == {"burned_ms": expected}
    assert reply.header("Content-Type") == "application/json"
    assert reply.header("Content-Length") == str(len(reply.body))
    assert burned == [expected]
