"""Call the project's real WSGI and ASGI applications in-process.

Not Django's test client: these speak the server protocols to the very
callables a server would load, so middleware adaptation, signals and
switch counts are those of production.
"""

import asyncio
import io
import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench.site.in_site.asgi_client import OneRequest


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    chunks: list[bytes] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key.lower() == name]


def _split(target: str) -> tuple[str, str]:
    parts = urlsplit(target)
    return parts.path, parts.query


def call_wsgi(
    app: Callable,
    target: str,
    *,
    method: str = "GET",
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    remote_addr: str = "127.0.0.1",
) -> Reply:
    path, query = _split(target)
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": remote_addr,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "HTTP_HOST": "127.0.0.1",
    }
    for name, value in headers:
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ[key] = value
        else:
            environ[f"HTTP_{key}"] = value
    started: dict = {}

    def start_response(status: str, response_headers: list, exc_info=None) -> None:
        started["status"] = int(status.split(" ", 1)[0])
        started["headers"] = list(response_headers)

    result = app(environ, start_response)
    try:
        chunks = [bytes(chunk) for chunk in result]
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return Reply(started["status"], started["headers"], b"".join(chunks), chunks)


async def call_asgi_async(
    app: Callable,
    target: str,
    *,
    method: str = "GET",
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    client: tuple[str, int] | None = ("127.0.0.1", 50000),
    disconnect_after: float | None = None,
) -> Reply:
    """One request; with ``disconnect_after`` the client leaves after that many seconds."""
    path, query = _split(target)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")]
        + [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers],
        "client": client,
        "server": ("127.0.0.1", 8000),
    }
    request = OneRequest(body, disconnect_after)
    messages: list[dict] = []

    async def send(message: dict) -> None:
        messages.append(message)
        request.sent(message)

    await app(scope, request.receive, send)
    start = next((m for m in messages if m["type"] == "http.response.start"), None)
    chunks = [m.get("body", b"") for m in messages if m["type"] == "http.response.body"]
    if start is None:
        return Reply(0, [], b"", [])
    headers_out = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]]
    return Reply(start["status"], headers_out, b"".join(chunks), [c for c in chunks if c])


def call_asgi(
    app: Callable,
    target: str,
    *,
    teardown: Callable[[], Awaitable[None]] | None = None,
    **kwargs,
) -> Reply:
    """``call_asgi_async`` in a fresh event loop; ``teardown`` runs in it before it closes."""

    async def main() -> Reply:
        try:
            return await call_asgi_async(app, target, **kwargs)
        finally:
            if teardown is not None:
                await teardown()

    return asyncio.run(main())
