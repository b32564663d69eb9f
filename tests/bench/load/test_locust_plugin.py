"""bench.load.in_locust.plugin, driven in-process through locust's own events.

No locust process and no server: the plugin is imported unpatched, a fake
environment and runner stand in for locust's, and requests are fired as
locust fires them, so each phase's counts, the markers on stdout and the
files written have known answers.
"""

import array
import json
import time
from pathlib import Path
from types import SimpleNamespace

import gevent
import gevent.event
import pytest
from helpers.unpatched_locust import load

plugin = load("bench.load.in_locust.plugin")
open_loop = load("bench.load.in_locust.open_loop")

from locust import events  # noqa: E402  (after the plugin, imported unpatched)
from locust.argument_parser import get_parser  # noqa: E402


def test_the_options_and_their_defaults():
    parser = get_parser(default_config_files=[])
    defaults = parser.parse_args(["-f", "scenario.py"])
    assert (defaults.bench_warmup, defaults.bench_duration) == (2.0, 15.0)
    assert (defaults.bench_rate, defaults.bench_schedule, defaults.bench_late_bound) == (
        0.0, "uniform", 1.0
    )  # fmt: skip
    assert (defaults.bench_process, defaults.bench_go_file, defaults.bench_out) == ("0/1", "", "")
    given = parser.parse_args(["--bench-rate", "250", "--bench-schedule", "poisson"])
    assert (given.bench_rate, given.bench_schedule) == (250.0, "poisson")
    with pytest.raises(SystemExit):
        parser.parse_args(["--bench-schedule", "bursty"])


def request(recorder, name="/x", response_time=5.0, exception=None) -> None:
    recorder.on_request("GET", name, response_time, 10, exception=exception)


def read_f64(path: Path) -> list[float]:
    values = array.array("d")
    values.frombytes(path.read_bytes())
    return list(values)


def test_each_phase_keeps_its_own_counts_and_the_window_its_exact_times(tmp_path):
    recorder = plugin.Recorder()
    request(recorder, "/a", 1.0)  # warm-up
    request(recorder, "/a", None)  # warm-up, no response time: counted, no completion time
    opened = time.time()
    recorder.set_phase(plugin.WINDOW, opened)
    request(recorder, "/a", 3.25)
    request(recorder, "/a", 4.5)
    request(recorder, "/b", None)  # no response time in the window: not a sample
    request(recorder, "/a", 9.0, exception=ValueError("boom\nsecond line"))
    request(recorder, "/a", 9.0, exception=RuntimeError(""))
    request(recorder, "/a", 9.0, exception=OSError("x" * 500))
    recorder.set_phase(plugin.DRAIN, time.time())
    request(recorder, "/a", 2.0)
    request(recorder, "/a", 2.0, exception=TimeoutError("late"))
    recorder.dump(tmp_path, "local")

    summary = json.loads((tmp_path / "local.json").read_text())
    assert summary["role"] == "local" and summary["window_start"] == opened
    assert summary["warmup"] == {"GET /a": 2}
    assert summary["drained"] == {"GET /a": 1} and summary["drained_failures"] == {"GET /a": 1}
    assert summary["failures"] == {"GET /a": 3}
    assert summary["errors"] == {
        "GET /a | ValueError: boom": 1,
        "GET /a | RuntimeError": 1,
        f"GET /a | OSError: {'x' * 120}": 1,
    }
    assert summary["open_loop"] is None and summary["due_files"] == {}
    # pairs of (seconds since the window opened, response time in ms)
    pairs = read_f64(tmp_path / summary["sample_files"]["GET /a"])
    assert pairs[1::2] == [3.25, 4.5]
    window = summary["window_end"] - summary["window_start"]
    assert all(0 <= at <= window for at in pairs[0::2])
    assert list(summary["sample_files"]) == ["GET /a"]
    failures = read_f64(tmp_path / summary["failure_file"])
    assert len(failures) == 3 and all(0 <= at <= window for at in failures)
    # completion times outside the window: one warm-up success, one drained
    outside = read_f64(tmp_path / summary["outside_files"]["GET /a"])
    assert len(outside) == 2 and outside[0] < opened < summary["window_end"] <= outside[1]


def answer(recorder, loop, due: float, exception=None) -> None:
    """A user takes ``due`` off the queue and its request ends."""
    loop.queue.put(due)
    assert loop.take() == due
    request(recorder, "/io", 5.0, exception=exception)


def test_open_loop_requests_are_accounted_by_their_due_time(tmp_path):
    recorder = plugin.Recorder()
    loop = open_loop.OpenLoop(rate=10, late_bound=1.0, phase=lambda: recorder.phase)
    recorder.open_loop = loop
    start = time.time()
    recorder.set_phase(plugin.WINDOW, start)
    due = [start + offset for offset in (0.1, 0.2, 0.3, 0.4, 0.5, 0.7)]
    loop.due.extend(due)
    answer(recorder, loop, due[0])
    answer(recorder, loop, due[1])
    answer(recorder, loop, due[2], exception=ConnectionError("reset"))
    loop.dropped_due.append(due[3])  # no user could take it in time
    # due[4] is still queued or in flight when the drain ends
    gevent.spawn(request, recorder, "/io").join()  # a request no due time was taken for
    recorder.set_phase(plugin.DRAIN, start + 0.6)
    loop.start()
    gevent.sleep(0.05)
    assert list(loop.due) == due  # the drain stopped the schedule: nothing more falls due
    answer(recorder, loop, due[5])  # due after the window: not the window's
    recorder.dump(tmp_path, "local")

    summary = json.loads((tmp_path / "local.json").read_text())
    window = summary["open_loop"]["window"]
    assert (window["scheduled"], window["answered"], window["failed"]) == (5, 2, 1)
    assert (window["dropped"], window["unanswered"]) == (1, 3)
    assert window["undue"] == {"GET /io": 1}
    # every user was free before its request fell due, and took it at once
    assert (window["free_slip_count"], window["free_slip_ms_p99"]) == (3, 0.0)
    pairs = read_f64(tmp_path / summary["due_files"]["GET /io"])
    assert pairs[0::2] == pytest.approx([0.1, 0.2], abs=1e-6)  # seconds from the window's start
    described = summary["open_loop"]
    assert (described["rate"], described["process"], described["late_bound_s"]) == (10, [0, 1], 1.0)


class FakeRunner:
    def __init__(self) -> None:
        self.resets = 0
        self.quit_called = gevent.event.Event()
        self.stats = SimpleNamespace(
            total=SimpleNamespace(num_requests=7, num_failures=1), reset_all=self._reset
        )

    def _reset(self) -> None:
        self.resets += 1

    def quit(self) -> None:
        self.quit_called.set()


def fire_request(name: str, response_time: float = 4.0) -> None:
    events.request.fire(
        request_type="GET", name=name, response_time=response_time, response_length=1,
        exception=None, context={},
    )  # fmt: skip


def test_a_local_run_waits_for_its_host_warms_up_opens_the_window_and_writes(tmp_path, capsys):
    go_file = tmp_path / "go"
    go_file.write_text("http://127.0.0.1:8123\n")
    options = SimpleNamespace(
        bench_rate=0.0, bench_go_file=str(go_file), bench_warmup=0.0, bench_duration=0.3,
        bench_out=str(tmp_path / "out"),
    )  # fmt: skip
    runner = FakeRunner()
    environment = SimpleNamespace(parsed_options=options, runner=runner, host=None)
    events.init.fire(environment=environment, runner=runner, web_ui=None)
    assert environment.host == "http://127.0.0.1:8123"
    fire_request("/warm")
    events.test_start.fire(environment=environment)
    events.test_start.fire(environment=environment)  # one window, however often it fires
    events.spawning_complete.fire(user_count=1)
    gevent.sleep(0.1)
    fire_request("/in-window", 6.5)
    assert runner.quit_called.wait(timeout=10)
    fire_request("/drained")
    events.quitting.fire(environment=environment)

    markers = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert [m[0] for m in markers] == ["BENCH_WINDOW_START", "BENCH_PROGRESS", "BENCH_WINDOW_END"]
    assert markers[1][1:] == ["7", "1", "0.300"]  # locust's totals, and the window's seconds
    opened, closed = float(markers[0][1]), float(markers[2][1])
    assert closed - opened >= 0.3 and runner.resets == 1  # stats reset as the window opened
    summary = json.loads((tmp_path / "out" / "local.json").read_text())
    assert (summary["window_start"], summary["window_end"]) == pytest.approx((opened, closed))
    assert summary["warmup"] == {"GET /warm": 1} and summary["drained"] == {"GET /drained": 1}
    assert list(summary["sample_files"]) == ["GET /in-window"]
    assert summary["stats_reset"] is True and summary["workers"] == []
