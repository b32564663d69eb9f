"""bench.load.in_locust.open_loop, driven in-process with gevent's own primitives.

No locust process and no server: due times are put on the loop's queue by
hand (or made by its scheduler greenlet), and users are greenlets of this
test, so what is taken, dropped, slipped and scheduled has a known answer.
"""

import array
import time
from itertools import pairwise
from types import SimpleNamespace

import pytest
from helpers.unpatched_locust import load

open_loop = load("bench.load.in_locust.open_loop")

import gevent  # noqa: E402  (after locust, imported unpatched)
from locust.exception import StopUser  # noqa: E402
from locust.user.task import TaskSet  # noqa: E402
from locust.user.users import (  # noqa: E402
    LOCUST_STATE_RUNNING,
    LOCUST_STATE_STOPPING,
    LOCUST_STATE_WAITING,
)

from bench.load import schedule  # noqa: E402


def test_a_due_time_too_late_to_send_is_dropped_and_counted_by_phase():
    phase = {"now": "warmup"}
    loop = open_loop.OpenLoop(rate=10, late_bound=1.0, phase=lambda: phase["now"])
    now = time.time()
    loop.queue.put(now - 5.0)
    loop.queue.put(now - 3.0)
    loop.queue.put(now - 0.2)  # late, but within the bound: sent
    assert loop.take() == now - 0.2
    assert loop.dropped == {"warmup": 2}
    assert loop.dropped_due == array.array("d", [now - 5.0, now - 3.0])
    assert loop.due_of_current() == now - 0.2  # this greenlet's request
    # the user was busy when it fell due: that lateness is not the load generator's own
    assert len(loop.free_slip) == 0


def test_a_user_free_before_its_request_fell_due_records_the_slip():
    loop = open_loop.OpenLoop(rate=10)
    ahead = time.time() + 30.0  # due in the future: taken at once, no slip
    loop.queue.put(ahead)
    assert loop.take() == ahead
    assert loop.free_slip == array.array("d", [ahead, 0.0])
    # a user waiting on an empty queue, and a request due 50 ms after it began to wait
    waiting = gevent.spawn(loop.take)
    gevent.sleep(0.08)
    due = time.time() - 0.03
    loop.queue.put(due)
    assert waiting.get(timeout=5) == due
    assert loop.free_slip[2] == due and 0.02 < loop.free_slip[3] < 0.5
    assert loop.due_of_current() == ahead  # each greenlet keeps its own due time


def run_scheduler(loop: open_loop.OpenLoop, seconds: float) -> float:
    """Start the scheduler, let it run, stop it; the time just before it started."""
    began = time.time()
    loop.start()
    loop.start()  # a second start makes no second scheduler
    gevent.sleep(seconds)
    loop.stop()
    gevent.sleep(0.05)
    return began


def test_the_scheduler_makes_this_process_s_share_of_a_uniform_schedule():
    loop = open_loop.OpenLoop(rate=200, index=1, count=2, phase=lambda: "window")
    began = run_scheduler(loop, 0.15)
    made = list(loop.due)
    assert len(made) >= 3
    # process 1 of 2 at 200/s: every other due time, 10 ms apart, the first 5 ms in
    # (to a microsecond: a wall-clock time near 1.8e9 s holds no finer)
    gaps = [later - earlier for earlier, later in pairwise(made)]
    assert gaps == pytest.approx([0.01] * len(gaps), abs=1e-6)
    assert began <= made[0] - 0.005 <= began + 0.1
    assert loop.queue.qsize() == len(made) == loop.scheduled["window"]
    assert len(loop.slip) == len(made) and min(loop.slip) >= 0.0
    gevent.sleep(0.05)
    assert list(loop.due) == made  # stopped: nothing more falls due


def test_a_poisson_schedule_is_the_recorded_seed_s_arrivals():
    loop = open_loop.OpenLoop(rate=300, schedule="poisson", seed=7, index=0, count=3)
    run_scheduler(loop, 0.2)
    made = list(loop.due)
    assert len(made) >= 3
    expected = schedule.due_times(300, 0.0, "poisson", index=0, count=3, seed=7)
    arrivals = [next(expected) for _ in made]
    gaps = [b - a for a, b in pairwise(made)]
    assert gaps == pytest.approx([b - a for a, b in pairwise(arrivals)], abs=1e-6)


class Nested(TaskSet):
    pass


def a_task(taskset) -> None:
    pass


@pytest.fixture
def installed(monkeypatch):
    """The loop installed over a stand-in for locust's own execute_next_task."""
    executed: list[object] = []
    monkeypatch.setattr(TaskSet, "execute_next_task", lambda taskset: executed.append(taskset))
    monkeypatch.setattr(TaskSet, "wait", TaskSet.wait)  # restored after the test
    loop = open_loop.OpenLoop(rate=10)
    loop.install()
    return loop, executed


def taskset(task: object) -> SimpleNamespace:
    return SimpleNamespace(_task_queue=[task], user=SimpleNamespace(_state=None))


def test_each_task_waits_for_an_arrival_and_runs_when_one_falls_due(installed):
    loop, executed = installed
    user_tasks = taskset(a_task)
    running = gevent.spawn(TaskSet.execute_next_task, user_tasks)
    gevent.sleep(0.01)
    # waiting for a due time: a stop may kill the user here
    assert user_tasks.user._state == LOCUST_STATE_WAITING and executed == []
    loop.queue.put(time.time())
    running.get(timeout=5)
    assert user_tasks.user._state == LOCUST_STATE_RUNNING
    assert executed == [user_tasks]


def test_a_nested_taskset_takes_no_arrival_of_its_own(installed):
    loop, executed = installed
    outer = taskset(Nested)
    TaskSet.execute_next_task(outer)  # returns at once, with nothing on the queue
    assert executed == [outer] and outer.user._state is None
    assert loop.queue.qsize() == 0


def test_users_do_not_wait_between_tasks_but_a_stopping_one_stops(installed):
    assert TaskSet.wait(taskset(a_task)) is None
    stopping = taskset(a_task)
    stopping.user._state = LOCUST_STATE_STOPPING
    with pytest.raises(StopUser):
        TaskSet.wait(stopping)
