"""Loaded into locust beside a scenario: ``-f scenario.py,bench/load/in_locust/plugin.py``.

It runs inside the load generator, never in the harness. It does three things
locust does not:

- a measured window: a warm-up after spawning completes, then exactly
  ``--bench-duration`` seconds, then a stop that lets requests in flight finish
  (``--stop-timeout``). locust's stats are reset when the window opens, so its
  ``--json-file`` totals cover the window plus that drain;
- exact response times: every request's float time, kept with its completion
  time, instead of locust's whole-millisecond buckets; successes outside the
  window (warm-up, drain) keep their completion times too, so the harness can
  count the requests completed inside its own CPU interval exactly;
- markers on stdout (``BENCH_WINDOW_START``, ``BENCH_PROGRESS``,
  ``BENCH_WINDOW_END``) that the harness reads to sample the server's CPU over
  the same window.

In distributed mode the master owns the window and tells the workers when it
opens and closes; each worker writes its own samples.
"""

import array
import json
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import gevent
import gevent.event
from locust import events
from locust.runners import MasterRunner, WorkerRunner

from bench.load import schedule
from bench.load.in_locust import open_loop

WARMUP, WINDOW, DRAIN = "warmup", "window", "drain"
_MESSAGE = "bench_phase"


@events.init_command_line_parser.add_listener
def _add_options(parser) -> None:
    parser.add_argument(
        "--bench-warmup",
        type=float,
        default=2.0,
        include_in_web_ui=False,
        help="seconds of load before the measured window opens",
    )
    parser.add_argument(
        "--bench-duration",
        type=float,
        default=15.0,
        include_in_web_ui=False,
        help="length of the measured window in seconds",
    )
    parser.add_argument(
        "--bench-go-file",
        default="",
        include_in_web_ui=False,
        help="wait for this file, then load the host it names (harness use)",
    )
    parser.add_argument(
        "--bench-rate",
        type=float,
        default=0.0,
        include_in_web_ui=False,
        help="open loop: requests per second falling due on a schedule (0: closed loop)",
    )
    parser.add_argument(
        "--bench-schedule",
        choices=schedule.SCHEDULES,
        default="uniform",
        include_in_web_ui=False,
        help="open loop: evenly spaced due times, or Poisson arrivals",
    )
    parser.add_argument(
        "--bench-late-bound",
        type=float,
        default=1.0,
        include_in_web_ui=False,
        help="open loop: drop a request no user could send this many seconds after its due time",
    )
    parser.add_argument(
        "--bench-seed", type=int, default=0, include_in_web_ui=False, help="Poisson schedule seed"
    )
    parser.add_argument(
        "--bench-process",
        default="0/1",
        include_in_web_ui=False,
        help="open loop: this process's index/count; it takes every count-th due time",
    )
    parser.add_argument(
        "--bench-out",
        default="",
        include_in_web_ui=False,
        help="directory for exact samples (harness use)",
    )


def _error_kind(exception: BaseException) -> str:
    text = str(exception).strip().splitlines()[0] if str(exception).strip() else ""
    return f"{type(exception).__name__}: {text[:120]}" if text else type(exception).__name__


class Recorder:
    """Exact samples of this process, by phase."""

    def __init__(self) -> None:
        self.phase = WARMUP
        self.window_start = 0.0
        self.window_end = 0.0
        self.samples: dict[str, array.array] = defaultdict(lambda: array.array("d"))
        self.failures: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.warmup: Counter[str] = Counter()
        self.drained: Counter[str] = Counter()
        self.drained_failures: Counter[str] = Counter()
        # Absolute completion times (time.time()) of successes outside the window.
        self.outside: dict[str, array.array] = defaultdict(lambda: array.array("d"))
        self.failure_times = array.array("d")  # seconds since the window opened
        self.stats_reset = True
        self.workers: list[str] = []
        # Open loop only: latency from the due time, one per window sample, in order.
        self.open_loop: open_loop.OpenLoop | None = None
        # Open loop: (due time, ms from due) of every success, any phase; the
        # due times of failures; window successes made outside the schedule.
        self.answers: dict[str, array.array] = defaultdict(lambda: array.array("d"))
        self.failed_due = array.array("d")
        self.undue: Counter[str] = Counter()

    def set_phase(self, phase: str, at: float) -> None:
        if phase == WINDOW:
            self.window_start = at
        elif phase == DRAIN:
            self.window_end = at
            if self.open_loop is not None:
                self.open_loop.stop()
        self.phase = phase

    def on_request(
        self, request_type, name, response_time, response_length, exception=None, **_kwargs
    ) -> None:
        key = f"{request_type} {name}"
        if self.open_loop is not None:
            self._on_scheduled_request(key, response_time, exception)
        if self.phase == WINDOW:
            if response_time is None:
                return
            if exception is None:
                now = time.time()
                samples = self.samples[key]
                samples.append(now - self.window_start)
                samples.append(float(response_time))
            else:
                self.failures[key] += 1
                self.failure_times.append(time.time() - self.window_start)
                self.errors[f"{key} | {_error_kind(exception)}"] += 1
        elif self.phase == DRAIN:
            if exception is None:
                self.drained[key] += 1
                self.outside[key].append(time.time())
            else:
                self.drained_failures[key] += 1
        else:
            self.warmup[key] += 1
            if exception is None and response_time is not None:
                self.outside[key].append(time.time())

    def _on_scheduled_request(self, key: str, response_time, exception) -> None:
        """Keep an open-loop request by its due time, whatever phase it ends in:
        a request due in the window and answered in the drain still counts."""
        due = self.open_loop.due_of_current()
        if not due:
            if self.phase == WINDOW and exception is None and response_time is not None:
                self.undue[key] += 1
            return
        if exception is None and response_time is not None:
            answers = self.answers[key]
            answers.append(due)
            answers.append((time.time() - due) * 1000)
        elif exception is not None:
            self.failed_due.append(due)

    def _in_window(self, times) -> list[float]:
        return [t for t in times if self.window_start <= t < self.window_end]

    def _window_accounting(self) -> tuple[dict, dict[str, array.array]]:
        """The requests due in the window and what became of them, and each
        name's (seconds from the window's start to the due time, ms from due)."""
        loop = self.open_loop
        start, end = self.window_start, self.window_end
        due_answers: dict[str, array.array] = {}
        answered: set[float] = set()
        for key, pairs in self.answers.items():
            kept = array.array("d")
            for index in range(0, len(pairs), 2):
                due = pairs[index]
                if start <= due < end:
                    kept.append(due - start)
                    kept.append(pairs[index + 1])
                    answered.add(due)
            due_answers[key] = kept
        failed = set(self._in_window(self.failed_due)) - answered
        scheduled = len(self._in_window(loop.due)) if end else 0
        slips = sorted(
            loop.free_slip[i + 1]
            for i in range(0, len(loop.free_slip), 2)
            if start <= loop.free_slip[i] < end
        )
        window = {
            "scheduled": scheduled,
            "answered": len(answered),
            "failed": len(failed),
            "dropped": len(self._in_window(loop.dropped_due)),
            # dropped, failed, or still queued or in flight when the drain ended
            "unanswered": max(scheduled - len(answered), 0),
            "free_slip_count": len(slips),
            "free_slip_ms_p99": slips[int(0.99 * (len(slips) - 1))] * 1000 if slips else None,
            "undue": dict(self.undue),
        }
        return window, due_answers

    def _open_loop_summary(self, window: dict | None = None) -> dict | None:
        loop = self.open_loop
        if loop is None:
            return None
        slip = sorted(loop.slip)
        return {
            "window": window,
            "rate": loop.rate,
            "schedule": loop.schedule,
            "seed": loop.seed,
            "late_bound_s": loop.late_bound,
            "process": [loop.index, loop.count],
            "scheduled": dict(loop.scheduled),
            "dropped": dict(loop.dropped),
            "slip_ms_p99": slip[int(0.99 * (len(slip) - 1))] * 1000 if slip else None,
            "slip_ms_max": slip[-1] * 1000 if slip else None,
        }

    def dump(self, directory: Path, role: str) -> None:
        """Write ``<role>.json`` and one ``<role>-<n>.f64`` per request name:
        pairs of (seconds since the window opened, response time in ms); and
        ``<role>-outside-<n>.f64``, completion times outside the window."""
        directory.mkdir(parents=True, exist_ok=True)
        names = _write_arrays(directory, f"{role}-", self.samples)
        outside_files = _write_arrays(directory, f"{role}-outside-", self.outside)
        window, due_answers = (None, {})
        if self.open_loop is not None:
            window, due_answers = self._window_accounting()
        due_files = _write_arrays(directory, f"{role}-due-", due_answers)
        failure_file = directory / f"{role}-failures.f64"
        with open(failure_file, "wb") as handle:
            self.failure_times.tofile(handle)
        summary = {
            "role": role,
            "pid": os.getpid(),
            "window_start": self.window_start,
            "window_end": self.window_end,
            "sample_files": names,
            "outside_files": outside_files,
            "failure_file": failure_file.name,
            "stats_reset": self.stats_reset,
            "workers": self.workers,
            "failures": dict(self.failures),
            "errors": dict(self.errors),
            "warmup": dict(self.warmup),
            "drained": dict(self.drained),
            "drained_failures": dict(self.drained_failures),
            "due_files": due_files,
            "open_loop": self._open_loop_summary(window),
        }
        (directory / f"{role}.json").write_text(json.dumps(summary, indent=1))


def _write_arrays(directory: Path, prefix: str, arrays: dict[str, array.array]) -> dict[str, str]:
    """One raw float64 file per request name; returns name -> file name."""
    files = {}
    for index, (key, values) in enumerate(sorted(arrays.items())):
        path = directory / f"{prefix}{index}.f64"
        with open(path, "wb") as handle:
            values.tofile(handle)
        files[key] = path.name
    return files


_recorder = Recorder()
events.request.add_listener(_recorder.on_request)


def _say(*words: object) -> None:
    print("BENCH_" + " ".join(str(word) for word in words), flush=True)
    sys.stdout.flush()


def _control(environment) -> None:
    """Warm-up, window, stop: run by the local runner or the master.

    The warm-up counts from the first user, ramp-up included, but the window
    never opens before every user is running.
    """
    options = environment.parsed_options
    runner = environment.runner
    started = time.monotonic()
    _spawned.wait()
    gevent.sleep(max(options.bench_warmup - (time.monotonic() - started), 0.0))
    if isinstance(runner, MasterRunner):
        # Workers report deltas every few seconds; a reset here would keep some
        # warm-up in and lose some window. The master keeps whole-run totals,
        # which must then equal what all its workers sent.
        _recorder.stats_reset = False
        _recorder.workers = sorted(str(node.id) for node in runner.clients.values())
    else:
        runner.stats.reset_all()
    _set_phase(environment, WINDOW)
    _say("WINDOW_START", f"{time.time():.6f}")
    deadline = time.monotonic() + options.bench_duration
    while (remaining := deadline - time.monotonic()) > 0:
        gevent.sleep(min(1.0, remaining))
        _say(
            "PROGRESS",
            runner.stats.total.num_requests,
            runner.stats.total.num_failures,
            f"{options.bench_duration - max(remaining - 1.0, 0):.3f}",
        )
    _set_phase(environment, DRAIN)
    _say("WINDOW_END", f"{time.time():.6f}")
    runner.quit()


def _set_phase(environment, phase: str) -> None:
    now = time.time()
    _recorder.set_phase(phase, now)
    if isinstance(environment.runner, MasterRunner):
        environment.runner.send_message(_MESSAGE, {"phase": phase, "at": now})


def _on_phase_message(environment, msg, **_kwargs) -> None:
    _recorder.set_phase(msg.data["phase"], msg.data["at"])


_control_started = False
_spawned = gevent.event.Event()


GO_TIMEOUT = 180.0  # seconds to wait for the server; then give up


@events.init.add_listener
def _on_init(environment, **_kwargs) -> None:
    options = environment.parsed_options
    if getattr(options, "bench_rate", 0) > 0 and not isinstance(environment.runner, MasterRunner):
        index, count = (int(part) for part in options.bench_process.split("/"))
        _recorder.open_loop = open_loop.OpenLoop(
            rate=options.bench_rate,
            schedule=options.bench_schedule,
            late_bound=options.bench_late_bound,
            index=index,
            count=count,
            seed=options.bench_seed,
            phase=lambda: _recorder.phase,
        )
        _recorder.open_loop.install()
    if isinstance(environment.runner, WorkerRunner):
        environment.runner.register_message(_MESSAGE, _on_phase_message)
        return
    go_file = getattr(environment.parsed_options, "bench_go_file", "")
    if not go_file:
        return
    # The harness starts locust while the server starts: hold the load back
    # until the server answers and its address is known.
    deadline = time.monotonic() + GO_TIMEOUT
    while not os.path.exists(go_file):
        if time.monotonic() > deadline:
            sys.exit(f"no go file {go_file} after {GO_TIMEOUT:.0f} s")
        gevent.sleep(0.02)
    environment.host = Path(go_file).read_text().strip()


@events.test_start.add_listener
def _on_test_start(environment, **_kwargs) -> None:
    global _control_started
    if isinstance(environment.runner, WorkerRunner) or _control_started:
        return
    _control_started = True
    gevent.spawn(_control, environment)


@events.spawning_complete.add_listener
def _on_spawned(user_count, **_kwargs) -> None:
    _spawned.set()
    if _recorder.open_loop is not None:
        # The pool is ready: requests start falling due (the warm-up included).
        _recorder.open_loop.start()


@events.quitting.add_listener
def _write(environment, **_kwargs) -> None:
    out = getattr(environment.parsed_options, "bench_out", "")
    if not out:
        return
    if isinstance(environment.runner, MasterRunner):
        role = "master"
    elif isinstance(environment.runner, WorkerRunner):
        role = f"worker-{os.getpid()}"
    else:
        role = "local"
    _recorder.dump(Path(out), role)
