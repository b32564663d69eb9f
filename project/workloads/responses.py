"""The code that builds each response, shared by the sync and async views.

Views differ only in how they wait for their data; everything that shapes the
bytes on the wire lives here, so both styles answer byte for byte the same.
So does the burn workload's deliberate CPU spending, the same in both styles.
"""

import json
import random
import time
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass

from django.http import HttpResponse, StreamingHttpResponse
from django.template import loader

from project.workloads.models import Fortune, World

HELLO = "Hello, World!"
ADDED_FORTUNE = "Additional fortune added at request time."
WORLD_ROWS = 10_000
CHUNK_BYTES = 1024


def finished(response: HttpResponse) -> HttpResponse:
    """Set Content-Length explicitly: Django leaves it to middleware, and with
    no middleware some servers would fall back to chunked encoding."""
    response["Content-Length"] = str(len(response.content))
    return response


def plaintext() -> HttpResponse:
    return finished(HttpResponse(HELLO.encode(), content_type="text/plain"))


def json_response(payload: object) -> HttpResponse:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return finished(HttpResponse(body, content_type="application/json"))


def message() -> HttpResponse:
    return json_response({"message": HELLO})


def world_payload(world: World) -> dict[str, int]:
    return {"id": world.id, "randomNumber": world.randomnumber}


def world_ids(rng: random.Random, count: int) -> list[int]:
    """Which rows to read, drawn before any waiting so both styles read the same."""
    return [rng.randint(1, WORLD_ROWS) for _ in range(count)]


def update_plan(rng: random.Random, count: int) -> list[tuple[int, int]]:
    """Which rows to update and their new numbers: (id, new randomNumber)."""
    return [(rng.randint(1, WORLD_ROWS), rng.randint(1, WORLD_ROWS)) for _ in range(count)]


def one_world(world: World) -> HttpResponse:
    return json_response(world_payload(world))


def many_worlds(worlds: Iterable[World]) -> HttpResponse:
    return json_response([world_payload(world) for world in worlds])


def fortunes(rows: Iterable[Fortune]) -> HttpResponse:
    """TechEmpower's fortunes page: rows plus one added now, sorted, escaped."""
    rows = [*rows, Fortune(id=0, message=ADDED_FORTUNE)]
    rows.sort(key=lambda fortune: fortune.message)
    html = loader.render_to_string("workloads/fortunes.html", {"fortunes": rows})
    return finished(HttpResponse(html.encode(), content_type="text/html; charset=utf-8"))


def slept(ms: int) -> HttpResponse:
    return json_response({"slept_ms": ms})


def burn(ms: int) -> None:
    """Spend ``ms`` milliseconds of the calling thread's CPU time, then return.

    The harness's known-cost calibration: it measures server CPU per request
    from outside, and burn=15 must cost exactly 10 ms more than burn=5
    (scenarios/burn.py says why not burn=10 against burn=0). So the
    loop counts ``time.thread_time``, which does not advance while the thread
    waits for the GIL or is descheduled: however many other threads or
    requests run meanwhile, this thread consumes ``ms`` of CPU. Wall time
    would also count the time others hold the CPU or the GIL; a fixed
    iteration count would vary with the machine and the interpreter.
    """
    if ms <= 0:
        return
    deadline = time.thread_time_ns() + ms * 1_000_000
    while time.thread_time_ns() < deadline:
        pass


def loop(iterations: int) -> int:
    """Run a fixed pure-Python loop ``iterations`` times; its total, so nothing is skipped.

    The known answer of instruction counting (``python -m bench cost``): unlike
    the burn, its work is a count of iterations, not of time, so the
    instructions it adds to a request are the same on every machine and grow
    exactly in proportion to ``iterations``. Integers stay below 2**30: every
    addition takes CPython's one-digit path, whatever the count.
    """
    total = 0
    for index in range(iterations):
        total = (total + index) & 0xFFFF
    return total


def looped(iterations: int, total: int) -> HttpResponse:
    return json_response({"loops": iterations, "total": total})


def nothing() -> None:
    """What a hop calls: no work, so a hop's cost is the crossing alone."""


async def anothing() -> None:
    """The async side of a hop's call: no work either."""


def hopped(hops: int) -> HttpResponse:
    return json_response({"hops": hops})


def burned(ms: int) -> HttpResponse:
    return json_response({"burned_ms": ms})


def db_burned(ms: int) -> HttpResponse:
    return json_response({"db_burned_ms": ms})


def upstream_results(results: list[dict]) -> HttpResponse:
    return json_response({"results": results})


def chunk(index: int) -> bytes:
    """Chunk ``index`` of a stream: CHUNK_BYTES bytes, numbered so order is checkable."""
    head = f"{index:08d}".encode()
    return head + b"." * (CHUNK_BYTES - len(head) - 1) + b"\n"


# Held connections (sse, longpoll): the views hold a request open and only
# wait; the clocks, the event bytes and the answers are built here.

# Sent at once: a WSGI server sends the headers with the first body bytes, so
# without it a client would see no answer until the first event.
SSE_OPENING = b": stream open\n\n"


@dataclass(frozen=True)
class EventClock:
    """When each event of one stream falls due: every interval after it opened."""

    interval_ms: int
    count: int
    opened: float  # time.time()

    def due(self, index: int) -> float:
        """time.time() at which event ``index`` (from 0) falls due."""
        return self.opened + (index + 1) * self.interval_ms / 1000


def event_clock(interval_ms: int, seconds: int) -> EventClock:
    """The clock of a stream opened now: one event per interval for ``seconds``."""
    return EventClock(interval_ms, seconds * 1000 // interval_ms, time.time())


def seconds_until(due: float) -> float:
    """How long to wait for ``due`` (time.time() seconds), 0.0 once it has come.

    Views wait in a loop on it: a timer may fire a little early (uvloop counts
    whole milliseconds), and an event must never leave before it is due.
    """
    return max(due - time.time(), 0.0)


def sse_event(index: int, due: float) -> bytes:
    """Event ``index`` stamped with the time it fell due (time.time(),
    microseconds), not the time it left: the client, on the same machine,
    subtracts it from the time the event reached it, so a view that ran late
    (a thread that was not free, a loop that was busy) shows its lateness as
    delay instead of hiding it, as a long-poll answer's due time does."""
    return f"id: {index}\ndata: {due:.6f}\n\n".encode()


def event_stream(content: Iterable[bytes] | AsyncIterable[bytes]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(content, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    return response


def next_due_ms(interval_ms: int) -> int:
    """The next event of a fixed clock: the next multiple of ``interval_ms`` of
    wall time, in ms since the epoch (every poller waits for the same instants)."""
    return (int(time.time() * 1000) // interval_ms + 1) * interval_ms


def event_due(due_ms: int, interval_ms: int) -> HttpResponse:
    return json_response({"due_ms": due_ms, "interval_ms": interval_ms})
