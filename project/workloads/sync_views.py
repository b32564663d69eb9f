"""The ``def`` view of every workload (served under /sync/<name>)."""

import time

from asgiref.sync import async_to_sync
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from project import accounting
from project.workloads import data, params, responses, upstream_client


def plaintext(request: HttpRequest) -> HttpResponse:
    return responses.plaintext()


def json(request: HttpRequest) -> HttpResponse:
    return responses.message()


def db(request: HttpRequest) -> HttpResponse:
    (world_id,) = responses.world_ids(params.rng_for(request), 1)
    return responses.one_world(data.world(world_id))


def queries(request: HttpRequest) -> HttpResponse:
    count = params.int_param(request, "n", params.COUNT)
    return responses.many_worlds(data.worlds(responses.world_ids(params.rng_for(request), count)))


def updates(request: HttpRequest) -> HttpResponse:
    count = params.int_param(request, "n", params.COUNT)
    plan = responses.update_plan(params.rng_for(request), count)
    return responses.many_worlds(data.update_worlds(plan))


def updates_atomic(request: HttpRequest) -> HttpResponse:
    count = params.int_param(request, "n", params.COUNT)
    plan = responses.update_plan(params.rng_for(request), count)
    return responses.many_worlds(data.update_worlds_atomic(plan))


def insert_atomic(request: HttpRequest) -> HttpResponse:
    """One ledger row and one World update inside ``with transaction.atomic():``."""
    ((world_id, number),) = responses.update_plan(params.rng_for(request), 1)
    return responses.one_world(data.insert_atomic(world_id, number))


def fortunes(request: HttpRequest) -> HttpResponse:
    return responses.fortunes(data.fortunes())


def io(request: HttpRequest) -> HttpResponse:
    ms = params.int_param(request, "ms", params.IO_MS)
    time.sleep(ms / 1000)
    return responses.slept(ms)


def burn(request: HttpRequest) -> HttpResponse:
    ms = params.int_param(request, "ms", params.BURN_MS)
    responses.burn(ms)
    return responses.burned(ms)


def loop(request: HttpRequest) -> HttpResponse:
    iterations = params.int_param(request, "n", params.LOOPS)
    return responses.looped(iterations, responses.loop(iterations))


def hops(request: HttpRequest) -> HttpResponse:
    """``n`` calls of an empty coroutine through async_to_sync, one after another:
    under WSGI each makes a thread and an event loop, under ASGI each reaches
    back to the server's loop."""
    count = params.int_param(request, "n", params.HOPS)
    for _ in range(count):
        async_to_sync(responses.anothing)()
    return responses.hopped(count)


def db_burn(request: HttpRequest) -> HttpResponse:
    """CPU spent in the database, not in Django: a known cost per request."""
    return responses.db_burned(data.db_burn(params.int_param(request, "ms", params.DB_BURN_MS)))


def upstream(request: HttpRequest) -> HttpResponse:
    ms = params.int_param(request, "ms", params.UPSTREAM_MS)
    return responses.upstream_results([upstream_client.fetch(ms, 0)])


def fanout(request: HttpRequest) -> HttpResponse:
    ms = params.int_param(request, "ms", params.UPSTREAM_MS)
    calls = params.int_param(request, "n", params.COUNT)
    return responses.upstream_results([upstream_client.fetch(ms, call) for call in range(calls)])


def stream(request: HttpRequest) -> StreamingHttpResponse:
    chunks = params.int_param(request, "chunks", params.CHUNKS)
    pause = params.int_param(request, "ms", params.STREAM_MS) / 1000

    def content():
        for index in range(chunks):
            if index and pause:
                time.sleep(pause)
            yield responses.chunk(index)

    return StreamingHttpResponse(content(), content_type="text/plain")


def sse(request: HttpRequest) -> StreamingHttpResponse:
    """Server-sent events: one every ``interval`` ms for ``seconds``; the thread
    that runs this generator is held for the whole stream."""
    clock = responses.event_clock(
        params.int_param(request, "interval", params.EVENT_MS),
        params.int_param(request, "seconds", params.STREAM_SECONDS),
    )

    def content():
        yield responses.SSE_OPENING
        for index in range(clock.count):
            while wait := responses.seconds_until(clock.due(index)):
                time.sleep(wait)
            yield responses.sse_event(index, clock.due(index))

    return responses.event_stream(content())


def longpoll(request: HttpRequest) -> HttpResponse:
    """Held until the next event of a fixed clock, then answered with its due time."""
    interval = params.int_param(request, "interval", params.EVENT_MS)
    due_ms = responses.next_due_ms(interval)
    while wait := responses.seconds_until(due_ms / 1000):
        time.sleep(wait)
    return responses.event_due(due_ms, interval)


def disconnect(request: HttpRequest) -> HttpResponse:
    # A sync view cannot notice its client leaving: it runs to the end and
    # the server drops the response.
    ms = params.int_param(request, "ms", params.DISCONNECT_MS)
    time.sleep(ms / 1000)
    accounting.count_disconnect_completed()
    return responses.slept(ms)


def bridge_a2s(request: HttpRequest) -> HttpResponse:
    """A sync view that reaches async code through async_to_sync."""
    (world_id,) = responses.world_ids(params.rng_for(request), 1)
    return responses.one_world(async_to_sync(data.aworld)(world_id))
