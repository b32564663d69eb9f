"""The held-connection workloads (sse, longpoll), in-process under WSGI and ASGI.

Their bodies carry clock readings, so instead of comparing the two styles byte
for byte these tests time what arrives: each SSE event must arrive one
interval after the previous one, stamped with the time it fell due; a
long-poll must be answered at the next tick of a wall-clock-aligned clock.
Short intervals keep every test near a second.
"""

import itertools
import json
import time
import warnings

import pytest

from project.workloads import responses

MATCHED = [("wsgi", "sync"), ("asgi", "async")]
MISMATCHED = [("wsgi", "async"), ("asgi", "sync")]


def _timed_wsgi(app, log: list):
    def wrapped(environ, start_response):
        result = app(environ, start_response)
        try:
            for chunk in result:
                log.append((time.time(), bytes(chunk)))
                yield chunk
        finally:
            result.close()

    return wrapped


def _timed_asgi(app, log: list):
    async def wrapped(scope, receive, send):
        async def timed_send(message):
            if message["type"] == "http.response.body" and message.get("body"):
                log.append((time.time(), message["body"]))
            await send(message)

        await app(scope, receive, timed_send)

    return wrapped


def _arrivals(request_via, handlers, kind, style, target):
    """(reply, [(arrival time, chunk)]) of one request."""
    wsgi, asgi = handlers("none")
    log: list[tuple[float, bytes]] = []
    app = _timed_wsgi(wsgi, log) if kind == "wsgi" else _timed_asgi(asgi, log)
    reply = request_via(kind, app, f"/{style}/{target}")
    return reply, log


def _events(log: list[tuple[float, bytes]]) -> list[tuple[int, float, float]]:
    """(id, stamp, arrival) of every event, whatever the chunking."""
    events, buffer = [], b""
    for arrived, chunk in log:
        buffer += chunk
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            fields = dict(
                line.split(": ", 1) for line in block.decode().splitlines() if ": " in line
            )
            if "data" in fields:
                events.append((int(fields["id"]), float(fields["data"]), arrived))
    return events


@pytest.mark.parametrize(("kind", "style"), MATCHED)
def test_a_matched_stream_sends_one_stamped_event_per_interval(handlers, request_via, kind, style):
    opened = time.time()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a matched pair must stream, not buffer
        reply, log = _arrivals(request_via, handlers, kind, style, "sse?interval=50&seconds=1")
    assert reply.status == 200
    assert reply.header("Content-Type") == "text/event-stream"
    assert reply.header("Cache-Control") == "no-cache"
    assert reply.body.startswith(responses.SSE_OPENING)
    assert log[0][0] - opened < 0.1  # the opening comment leaves at once
    events = _events(log)
    assert [index for index, _, _ in events] == list(range(20))
    for index, stamp, arrived in events:
        assert 0 <= arrived - stamp < 0.1, "delivered when it fell due (a busy machine wakes late)"
        assert stamp == pytest.approx(opened + (index + 1) * 0.05, abs=0.05), "stamped: due"
    # due times are counted from the stream's opening, so lateness does not add up
    assert events[-1][1] - events[0][1] == pytest.approx(19 * 0.05, abs=0.08)
    gaps = [later[1] - earlier[1] for earlier, later in itertools.pairwise(events)]
    assert min(gaps) > 0


@pytest.mark.parametrize(("kind", "style"), MISMATCHED)
def test_a_mismatched_stream_arrives_all_at_once_at_its_end(handlers, request_via, kind, style):
    with pytest.warns(Warning, match="must consume"):
        _, log = _arrivals(request_via, handlers, kind, style, "sse?interval=100&seconds=1")
    events = _events(log)
    assert len(events) == 10
    _, first_stamp, first_arrival = events[0]
    # due after 0.1 s, delivered with the last one, after 1 s
    assert first_arrival - first_stamp > 0.8
    assert max(arrived for _, _, arrived in events) - min(a for _, _, a in events) < 0.05


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
@pytest.mark.parametrize("style", ["sync", "async"])
def test_a_long_poll_is_answered_at_the_next_tick_of_a_wall_clock(
    handlers, request_via, kind, style
):
    app = dict(zip(("wsgi", "asgi"), handlers("none"), strict=True))[kind]
    sent = time.time()
    reply = request_via(kind, app, f"/{style}/longpoll?interval=200")
    arrived = time.time()
    assert reply.status == 200
    assert reply.header("Content-Type") == "application/json"
    assert reply.header("Content-Length") == str(len(reply.body))
    body = json.loads(reply.body)
    assert body["interval_ms"] == 200 and body["due_ms"] % 200 == 0
    due = body["due_ms"] / 1000
    # the view starts a moment after `sent` (WSGI runs an async view in a new
    # event loop): its tick is after `sent`, and the answer leaves right at it
    assert sent < due <= arrived < due + 0.1


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
def test_both_styles_answer_the_same_shape(handlers, request_via, kind):
    app = dict(zip(("wsgi", "asgi"), handlers("django"), strict=True))[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the mismatched empty stream warns
        sync = request_via(kind, app, "/sync/sse?interval=50&seconds=0")
        asynchronous = request_via(kind, app, "/async/sse?interval=50&seconds=0")
    assert sync.status == asynchronous.status == 200
    assert sync.body == asynchronous.body == responses.SSE_OPENING
    assert sync.header("Content-Type") == asynchronous.header("Content-Type")
    polls = [
        json.loads(request_via(kind, app, f"/{style}/longpoll?interval=10").body)
        for style in ("sync", "async")
    ]
    assert [set(poll) for poll in polls] == [{"due_ms", "interval_ms"}] * 2


def test_parameters_are_clamped(handlers, request_via):
    app = handlers("none")[0]
    poll = json.loads(request_via("wsgi", app, "/sync/longpoll?interval=1").body)
    assert poll["interval_ms"] == 10  # the lowest interval
    stream = request_via("wsgi", app, "/sync/sse?interval=x&seconds=-4")
    assert stream.body == responses.SSE_OPENING  # no events; the interval's default is unused
    assert responses.event_clock(10, 1).count == 100
    assert responses.event_clock(60_000, 3600).count == 60


def test_the_clocks():
    clock = responses.EventClock(interval_ms=250, count=4, opened=100.0)
    assert [clock.due(index) for index in range(4)] == [100.25, 100.5, 100.75, 101.0]
    due = responses.next_due_ms(1000)
    assert due % 1000 == 0 and 0 < due - time.time() * 1000 <= 1000
    assert responses.seconds_until(time.time() - 5) == 0.0
    assert 0 < responses.seconds_until(time.time() + 5) <= 5


def test_an_event_sent_late_carries_its_due_time_so_the_delay_shows():
    """A reader (or a thread) that comes late must not make the event look on time."""
    from django.test import RequestFactory

    from project.workloads import sync_views

    response = sync_views.sse(RequestFactory().get("/sync/sse?interval=50&seconds=1"))
    chunks = iter(response.streaming_content)
    opened = time.time()
    assert next(chunks) == responses.SSE_OPENING
    time.sleep(0.3)  # the first event fell due 0.25 s ago
    stamp = float(next(chunks).split(b"data: ")[1])
    assert time.time() - stamp > 0.2
    assert stamp == pytest.approx(opened + 0.05, abs=0.02)
    response.close()
