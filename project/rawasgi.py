"""The two ASGI chores the project's non-Django apps share."""

from collections.abc import Callable


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
