"""The ``async def`` view of every workload (served under /async/<name>)."""

import asyncio

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from project import accounting
from project.workloads import data, params, responses, upstream_client


async def plaintext(request: HttpRequest) -> HttpResponse:
    return responses.plaintext()


async def json(request: HttpRequest) -> HttpResponse:
    return responses.message()


async def db(request: HttpRequest) -> HttpResponse:
    (world_id,) = responses.world_ids(params.rng_for(request), 1)
    return responses.one_world(await data.aworld(world_id))


async def queries(request: HttpRequest) -> HttpResponse:
    count = params.int_param(request, "n", params.COUNT)
    ids = responses.world_ids(params.rng_for(request), count)
    return responses.many_worlds(await data.aworlds(ids))


async def updates(request: HttpRequest) -> HttpResponse:
    count = params.int_param(request, "n", params.COUNT)
    plan = responses.update_plan(params.rng_for(request), count)
    return responses.many_worlds(await data.aupdate_worlds(plan))


async def updates_atomic(request: HttpRequest) -> HttpResponse:
    count = params.int_param(request, "n", params.COUNT)
    plan = responses.update_plan(params.rng_for(request), count)
    return responses.many_worlds(await data.aupdate_worlds_atomic(plan))


async def insert_atomic(request: HttpRequest) -> HttpResponse:
    """The same transaction: one sync function holding it, through sync_to_async."""
    ((world_id, number),) = responses.update_plan(params.rng_for(request), 1)
    return responses.one_world(await data.ainsert_atomic(world_id, number))


async def fortunes(request: HttpRequest) -> HttpResponse:
    return responses.fortunes(await data.afortunes())


async def io(request: HttpRequest) -> HttpResponse:
    ms = params.int_param(request, "ms", params.IO_MS)
    await asyncio.sleep(ms / 1000)
    return responses.slept(ms)


async def burn(request: HttpRequest) -> HttpResponse:
    """CPU-bound work in an async view: it runs on the event loop thread itself.

    That is what such work does in an ``async def`` view (the loop serves no
    other request meanwhile), and it is deliberate: no sync_to_async, so this
    view makes the same sync/async hops as the json view and the burn adds CPU
    only.
    """
    ms = params.int_param(request, "ms", params.BURN_MS)
    responses.burn(ms)
    return responses.burned(ms)


async def loop(request: HttpRequest) -> HttpResponse:
    """The fixed loop on the event loop's thread, as the burn: no extra hop."""
    iterations = params.int_param(request, "n", params.LOOPS)
    return responses.looped(iterations, responses.loop(iterations))


async def hops(request: HttpRequest) -> HttpResponse:
    """``n`` calls of an empty function through sync_to_async (thread-sensitive,
    Django's default), one after another: each a hand-off to the request's
    sync thread and back."""
    count = params.int_param(request, "n", params.HOPS)
    for _ in range(count):
        await sync_to_async(responses.nothing)()
    return responses.hopped(count)


async def db_burn(request: HttpRequest) -> HttpResponse:
    ms = params.int_param(request, "ms", params.DB_BURN_MS)
    return responses.db_burned(await data.adb_burn(ms))


async def upstream(request: HttpRequest) -> HttpResponse:
    ms = params.int_param(request, "ms", params.UPSTREAM_MS)
    return responses.upstream_results(await upstream_client.afetch_many(ms, 1, concurrently=False))


async def fanout(request: HttpRequest) -> HttpResponse:
    ms = params.int_param(request, "ms", params.UPSTREAM_MS)
    calls = params.int_param(request, "n", params.COUNT)
    results = await upstream_client.afetch_many(ms, calls, concurrently=True)
    return responses.upstream_results(results)


async def stream(request: HttpRequest) -> StreamingHttpResponse:
    chunks = params.int_param(request, "chunks", params.CHUNKS)
    pause = params.int_param(request, "ms", params.STREAM_MS) / 1000

    async def content():
        for index in range(chunks):
            if index and pause:
                await asyncio.sleep(pause)
            yield responses.chunk(index)

    return StreamingHttpResponse(content(), content_type="text/plain")


async def sse(request: HttpRequest) -> StreamingHttpResponse:
    """Server-sent events: one every ``interval`` ms for ``seconds``, from an
    async generator (no thread held while it waits)."""
    clock = responses.event_clock(
        params.int_param(request, "interval", params.EVENT_MS),
        params.int_param(request, "seconds", params.STREAM_SECONDS),
    )

    async def content():
        yield responses.SSE_OPENING
        for index in range(clock.count):
            while wait := responses.seconds_until(clock.due(index)):
                await asyncio.sleep(wait)
            yield responses.sse_event(index, clock.due(index))

    return responses.event_stream(content())


async def longpoll(request: HttpRequest) -> HttpResponse:
    """Held until the next event of a fixed clock, then answered with its due time."""
    interval = params.int_param(request, "interval", params.EVENT_MS)
    due_ms = responses.next_due_ms(interval)
    while wait := responses.seconds_until(due_ms / 1000):
        await asyncio.sleep(wait)
    return responses.event_due(due_ms, interval)


async def disconnect(request: HttpRequest) -> HttpResponse:
    """Wait; if the client goes away, Django cancels this task: count the cleanup."""
    ms = params.int_param(request, "ms", params.DISCONNECT_MS)
    try:
        await asyncio.sleep(ms / 1000)
    except asyncio.CancelledError:
        accounting.count_disconnect_cleanup()
        raise
    accounting.count_disconnect_completed()
    return responses.slept(ms)


async def bridge_ts(request: HttpRequest) -> HttpResponse:
    """Sync ORM code through sync_to_async(thread_sensitive=True): the safe default."""
    (world_id,) = responses.world_ids(params.rng_for(request), 1)
    return responses.one_world(await sync_to_async(data.world, thread_sensitive=True)(world_id))


async def bridge_nts(request: HttpRequest) -> HttpResponse:
    """The same through thread_sensitive=False: any thread of the loop's executor."""
    (world_id,) = responses.world_ids(params.rng_for(request), 1)
    return responses.one_world(await sync_to_async(data.world, thread_sensitive=False)(world_id))


async def orm_unsafe(request: HttpRequest) -> HttpResponse:
    """A deliberate mistake, never a workload to measure: the sync ORM called
    straight from an async view. Django's async-safety guard raises
    SynchronousOnlyOperation before any query runs, so every request is a 500;
    the async-safety scenario checks that the harness reports it as a failure."""
    (world_id,) = responses.world_ids(params.rng_for(request), 1)
    return responses.one_world(data.world(world_id))
