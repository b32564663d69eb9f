"""A bare ASGI app (no Django) answering the json workload's exact bytes.

The harness serves it to calibrate the load generator: a server this cheap
shows the highest rate locust can drive on its CPUs, so any cell near that
rate is measuring locust, not Django.
"""

from collections.abc import Callable

from project.rawasgi import send_response, serve_lifespan

BODY = b'{"message":"Hello, World!"}'


async def app(scope: dict, receive: Callable, send: Callable) -> None:
    if scope["type"] == "lifespan":
        await serve_lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    await send_response(send, 200, b"application/json", BODY)
