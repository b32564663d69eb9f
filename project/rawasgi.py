"""The ASGI chores the project's non-Django apps share."""

from collections.abc import Awaitable, Callable


def http_app(handle: Callable[[dict, Callable], Awaitable[None]]) -> Callable:
    """An ASGI app that answers lifespan and passes HTTP requests to ``handle(scope, send)``."""

    async def app(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            await serve_lifespan(receive, send)
        elif scope["type"] == "http":
            await handle(scope, send)

    return app


async def serve_lifespan(receive: Callable, send: Callable) -> None:
    """Answer the lifespan protocol so servers start these apps without warnings."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def send_response(send: Callable, status: int, content_type: bytes, body: bytes) -> None:
    """One whole response with Content-Type and Content-Length."""
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
