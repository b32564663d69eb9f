"""The one client of a cost run: sequential GETs on one keep-alive connection.

One client, one request at a time, so the server does the same work for
every request and nothing queues. Readiness is waited for by the first
request itself, never by polling with requests: under valgrind a server takes
tens of seconds to start, and each poll that timed out in the listen queue
would still be answered later, adding requests a run did not mean to send.
Only refused connections are retried (they never reach the server's code).
"""

import http.client
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.errors import BenchError


class ClientError(BenchError):
    """The server did not answer as a measured request must (200, in time)."""


@dataclass
class Client:
    """A keep-alive connection to ``host:port`` and the requests it has sent."""

    host: str
    port: int
    timeout: float
    # Which statuses a measured request may answer: 200 for the bundled
    # project; any 2xx or 3xx for a user's page (a login redirect is a page).
    accept: Callable[[int], bool] = field(default=lambda status: status == 200, repr=False)
    sent: int = 0
    connections: int = 0
    _connection: http.client.HTTPConnection | None = field(default=None, repr=False)

    def connect_when_listening(self, alive: Callable[[], bool], timeout: float) -> None:
        """Connect as soon as the server listens; an error if it exits or never does."""
        deadline = time.monotonic() + timeout
        while True:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                connection.connect()
            except ConnectionRefusedError:
                connection.close()
                if not alive():
                    raise ClientError("the server exited before it listened") from None
                if time.monotonic() > deadline:
                    raise ClientError(f"the server did not listen within {timeout:g} s") from None
                time.sleep(0.1)
                continue
            self._connection = connection
            self.connections += 1
            return

    def get(self, path: str) -> bytes:
        """One GET of ``path``; its body. A status ``accept`` refuses is an error."""
        if self._connection is None:
            raise ClientError("not connected")
        try:
            self._connection.request("GET", path)
            response = self._connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise ClientError(f"GET {path} failed: {type(exc).__name__}: {exc}") from None
        self.sent += 1
        if response.will_close:
            # A server without keep-alive (gunicorn's sync worker): the next
            # request opens a connection, as its clients' requests would.
            self._connection.close()
            self.connections += 1
        if not self.accept(response.status):
            raise ClientError(f"GET {path} answered HTTP {response.status}")
        return body

    def send(self, path: str, count: int) -> None:
        """``count`` GETs of ``path``, one after another."""
        for _ in range(count):
            self.get(path)

    def close(self) -> None:
        """Close the connection, so the server has nothing open when it is stopped."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
