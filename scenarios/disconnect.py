"""disconnect: clients that give up after 250 ms on a view that waits 1 s.

What happens to the abandoned work. Under ASGI an async view is cancelled
(asyncio.CancelledError) and counts a cleanup; a sync view runs to its end in
its thread and the response is dropped; under WSGI nothing notices at all.
The server's counts of cleanups and of views that ran to the end are read
back from it (switch accounting on), per abandoned request.
"""

import time

from _support import BenchUser, record, style_of


class AbandoningUser(BenchUser):
    endpoint = "disconnect?ms=1000"
    network_timeout = 0.25

    def request(self) -> None:
        style = style_of(self)
        name = f"{style}/{self.endpoint} abandoned"
        started = time.perf_counter()
        response = self.client.request(
            "GET",
            f"/{style}/{self.endpoint}",
            name=f"{style}/{self.endpoint}",
            catch_response=True,
        )
        with response as result:
            timed_out = "timed out" in str(getattr(result, "error", "") or "").lower()
            # The give-up is the point: not a failure of this request.
            result.success()
        error = None if timed_out else RuntimeError("answered before the client gave up")
        record(self, "ABANDON", name, started, 0, error)


BENCH = {
    "name": "disconnect",
    "groups": ["findings"],  # make bench-findings: the documentation's other claims
    "endpoints": {"disconnect": "AbandoningUser"},
    "styles": ["sync", "async"],
    "stacks": ["none"],
    "users": [20],
    "accounting": True,
    "primary": "ABANDON {style}/disconnect?ms=1000 abandoned",
    "default": {"servers": ["uvicorn"]},
}
