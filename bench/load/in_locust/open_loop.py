"""Open-loop load inside locust: requests fall due on a schedule, not when a user is free.

Runs inside the load generator (imported by ``locust_plugin``), never in the
harness. locust is a closed loop: each user waits for its answer before it
sends again, so when the server stalls, fewer requests are sent and the stall
hides from the percentiles (coordinated omission). Here a scheduler greenlet
makes requests due at ``start + k / rate`` (or at Poisson arrival times from
a recorded seed) and puts each due time on a queue; the users are a pool that
takes due times off the queue, so a request's latency counts from when it was
due, as wrk2 and k6's constant-arrival-rate executor measure it.

A due time that no user could take within ``late_bound`` seconds is dropped,
not sent, and counted (k6's dropped_iterations): with no free user the load
generator cannot send it, and sending it later would only move the lateness
out of sight. Every task execution of a plain locust User is one arrival, so
any locustfile runs open-loop unchanged; a task that is itself a TaskSet class
takes no arrival of its own (its inner tasks do).

With several locust processes, process ``index`` of ``count`` takes every
``count``-th due time, so together they send the whole schedule.
"""

import array
import time
from collections import Counter
from collections.abc import Callable

import gevent
import gevent.queue
from locust.exception import StopUser
from locust.user.task import TaskSet
from locust.user.users import LOCUST_STATE_RUNNING, LOCUST_STATE_STOPPING, LOCUST_STATE_WAITING

from bench.load.schedule import due_times


class OpenLoop:
    """The schedule, the queue of due requests, and what could not be sent."""

    def __init__(
        self,
        rate: float,
        schedule: str = "uniform",
        late_bound: float = 1.0,
        index: int = 0,
        count: int = 1,
        seed: int = 0,
        phase: Callable[[], str] = lambda: "",
    ) -> None:
        self.rate, self.schedule, self.late_bound = rate, schedule, late_bound
        self.index, self.count, self.seed = index, count, seed
        self.phase = phase
        self.queue: gevent.queue.Queue = gevent.queue.Queue()
        self.dropped: Counter[str] = Counter()  # by the phase they fell due in
        self.scheduled: Counter[str] = Counter()
        self.slip: list[float] = []  # seconds the scheduler woke late, per due time
        self.due = array.array("d")  # every due time made, in order
        self.dropped_due = array.array("d")  # due times dropped unsent
        # (due time, seconds from due to send) where a user was already free
        # when the request fell due: the load generator's own lateness
        self.free_slip = array.array("d")
        self._due: dict[int, float] = {}  # greenlet id -> due time of its request
        self._stopped = False
        self._greenlet: gevent.Greenlet | None = None

    def start(self) -> None:
        """Begin making requests due, from now."""
        if self._greenlet is None:
            self._greenlet = gevent.spawn(self._run, time.time())

    def stop(self) -> None:
        """No more due times (the window closed); requests already sent finish."""
        self._stopped = True

    def _run(self, start: float) -> None:
        for due in due_times(self.rate, start, self.schedule, self.index, self.count, self.seed):
            if self._stopped:
                return
            wait = due - time.time()
            if wait > 0:
                gevent.sleep(wait)
            if self._stopped:
                return
            self.slip.append(max(time.time() - due, 0.0))
            self.scheduled[self.phase()] += 1
            self.due.append(due)
            self.queue.put(due)

    def take(self) -> float:
        """Block until a request falls due that can still be sent in time; return its due time."""
        while True:
            free_since = time.time()
            due = self.queue.get()
            now = time.time()
            if now - due <= self.late_bound:
                self._due[id(gevent.getcurrent())] = due
                if free_since <= due:
                    self.free_slip.append(due)
                    self.free_slip.append(max(now - due, 0.0))
                return due
            self.dropped[self.phase()] += 1
            self.dropped_due.append(due)

    def due_of_current(self) -> float | None:
        """The due time of the request the calling user is making, if any."""
        return self._due.get(id(gevent.getcurrent()))

    def install(self) -> None:
        """Make every TaskSet take an arrival before each task and never sleep between."""
        loop = self
        original_execute = TaskSet.execute_next_task

        def execute_next_task(taskset: TaskSet) -> None:
            task = taskset._task_queue[0] if taskset._task_queue else None
            nested = isinstance(task, type) and issubclass(task, TaskSet)
            if not nested:
                user = taskset.user
                user._state = LOCUST_STATE_WAITING  # a stop may kill it while it waits
                loop.take()
                user._state = LOCUST_STATE_RUNNING
            original_execute(taskset)

        def wait(taskset: TaskSet) -> None:
            # The schedule paces the users, not a wait time; a stopping user stops here.
            if taskset.user._state == LOCUST_STATE_STOPPING:
                raise StopUser()
            gevent.sleep(0)

        TaskSet.execute_next_task = execute_next_task  # type: ignore[method-assign]
        TaskSet.wait = wait  # type: ignore[method-assign]
