"""bench.site.in_site.asgi_client: the client's side of one in-process ASGI request."""

import asyncio

from bench.site.in_site.asgi_client import OneRequest


async def streaming_app(scope, receive, send):
    """Reads the body, streams two chunks, then waits for the client to leave."""
    request = await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": request["body"], "more_body": True})
    await send({"type": "http.response.body", "body": b"!", "more_body": False})
    return await receive()


def test_the_body_comes_once_and_the_disconnect_after_the_last_chunk():
    async def main():
        request = OneRequest(b"hello")
        seen = []

        async def send(message):
            seen.append((message.get("body"), request.complete.is_set()))
            request.sent(message)

        last = await asyncio.wait_for(streaming_app({}, request.receive, send), 1)
        return last, seen, request.complete.is_set()

    last, seen, complete = asyncio.run(main())
    assert last == {"type": "http.disconnect"}
    # the response was not complete while a chunk with more_body was being sent
    assert seen == [(None, False), (b"hello", False), (b"!", False)] and complete


def test_a_client_that_gives_up_leaves_before_the_response_is_complete():
    async def main():
        request = OneRequest(disconnect_after=0.05)
        assert await request.receive() == {"type": "http.request", "body": b"", "more_body": False}
        return await asyncio.wait_for(request.receive(), 1), request.complete.is_set()

    assert asyncio.run(main()) == ({"type": "http.disconnect"}, False)


def test_without_a_time_limit_the_disconnect_waits_for_the_response():
    async def main():
        request = OneRequest()
        await request.receive()
        waiting = asyncio.ensure_future(request.receive())
        await asyncio.sleep(0.05)
        assert not waiting.done()
        request.sent({"type": "http.response.body", "body": b"", "more_body": False})
        return await asyncio.wait_for(waiting, 1)

    assert asyncio.run(main()) == {"type": "http.disconnect"}
