"""The client's side of one ASGI HTTP request, for calling an application in-process.

The in-process probe (``probe``) and the tests' calls of the bundled project
speak to an ASGI application as a server would: the request body once, then,
when the application reads again, a disconnect once its response is complete.
Standard library only, so that it runs in a user's environment too.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


class OneRequest:
    """What a client sends for one request: its ``body``, then ``http.disconnect``.

    The disconnect waits, as a server's does, until the application has sent
    the last chunk of its response (each message it sends is passed to
    ``sent``); with ``disconnect_after``, for at most that many seconds: a
    client that gives up and leaves.
    """

    def __init__(self, body: bytes = b"", disconnect_after: float | None = None) -> None:
        self.body = body
        self.disconnect_after = disconnect_after
        self.complete = asyncio.Event()
        self._body_sent = False

    async def receive(self) -> dict[str, Any]:
        """The ASGI ``receive`` callable."""
        if not self._body_sent:
            self._body_sent = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        if self.disconnect_after is None:
            await self.complete.wait()
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.complete.wait(), self.disconnect_after)
        return {"type": "http.disconnect"}

    def sent(self, message: dict[str, Any]) -> None:
        """Note a message the application sent: its last body chunk completes the response."""
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self.complete.set()
