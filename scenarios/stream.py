"""stream: 20 chunks of 1 KiB, 10 ms apart, from a sync or an async generator.

locust times a streamed response when its headers arrive, so this scenario
records two times itself: time to the first body byte ("ttfb") and time to the
last ("total"). Only the matched pairs stream: under ASGI Django consumes a
sync iterator whole before sending anything, under WSGI an async one, so the
mismatched pair's first byte comes only after the whole 190 ms.
"""

import time

from _support import BenchUser, record, style_of


class StreamUser(BenchUser):
    endpoint = "stream?chunks=20&ms=10"

    def request(self) -> None:
        style = style_of(self)
        name = f"{style}/{self.endpoint}"
        started = time.perf_counter()
        response = self.client.get(f"/{style}/{self.endpoint}", name=f"{name} headers", stream=True)
        size, first, error = 0, None, None
        try:
            response.raise_for_status()
            for chunk in response.iter_content(chunk_size=1024, decode_content=False):
                if first is None:
                    first = time.perf_counter()
                size += len(chunk)
        except Exception as exc:
            error = exc
        if first is not None:
            self.environment.events.request.fire(
                request_type="STREAM",
                name=f"{name} ttfb",
                response_time=(first - started) * 1000,
                response_length=0,
                exception=None,
                context={},
            )
        record(self, "STREAM", f"{name} total", started, size, error)


BENCH = {
    "name": "stream",
    "groups": ["findings"],  # make bench-findings: the documentation's other claims
    "endpoints": {"stream": "StreamUser"},
    "styles": ["sync", "async"],
    "stacks": ["none"],
    "users": [20],
    "primary": "STREAM {style}/stream?chunks=20&ms=10 total",
    "default": {"servers": ["uvicorn"]},
}
