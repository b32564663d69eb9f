"""A bare ASGI app (no Django) answering the json workload's exact bytes.

The harness serves it to calibrate the load generator: a server this cheap
shows the highest rate locust can drive on its CPUs, so any cell near that
rate is measuring locust, not Django.
"""

from collections.abc import Callable

from project.rawasgi import http_app, send_response

BODY = b'{"message":"Hello, World!"}'


@http_app
async def app(scope: dict, send: Callable) -> None:
    await send_response(send, 200, b"application/json", BODY)
