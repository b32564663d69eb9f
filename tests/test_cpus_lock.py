"""helpers.cpus: an ``alone`` test waits for the running tests and holds back new ones."""

import threading
import time

from helpers.cpus import held


def hold(lock, alone: bool, events: list[str], name: str, release: threading.Event) -> None:
    with held(lock, alone):
        events.append(f"{name} in")
        release.wait(5)
        events.append(f"{name} out")


def start(*args) -> threading.Thread:
    thread = threading.Thread(target=hold, args=args)
    thread.start()
    time.sleep(0.1)
    return thread


def test_alone_waits_for_shared_holders_and_new_ones_wait_for_it(tmp_path):
    lock, events = tmp_path / "cpus.lock", []
    first, second, alone, late = (threading.Event() for _ in range(4))
    threads = [start(lock, False, events, "a", first), start(lock, False, events, "b", second)]
    assert events == ["a in", "b in"]  # shared holders run together
    threads.append(start(lock, True, events, "alone", alone))
    threads.append(start(lock, False, events, "c", late))
    assert events == ["a in", "b in"]  # the alone one waits; c waits behind it
    first.set()
    time.sleep(0.1)
    assert events == ["a in", "b in", "a out"]
    second.set()
    time.sleep(0.1)
    assert events[3:] == ["b out", "alone in"]
    late.set()
    alone.set()
    for thread in threads:
        thread.join(5)
    assert events[5:] == ["alone out", "c in", "c out"]
