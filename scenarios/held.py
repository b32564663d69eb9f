"""held: many held connections, Django's headline async claim (slow streaming and long-polling).

An async view can hold hundreds of connections without a Python thread each;
a sync view needs one thread per held connection, so gunicorn-gthread cells get
``--threads`` equal to their users (``threads_per_user``). Each user is one
held connection:

- ``sse``: one server-sent-events stream per user, open for the whole run,
  one event per second, each stamped by the view with the time it fell due;
- ``longpoll``: each user's request is held until the next tick of a
  wall-clock-aligned one-second clock, answered with that tick's due time,
  and the user polls again at once.

Every delivered event is one sample whose response time is its delivery
delay (arrival minus due time: one machine, one clock; a late view shows as
delay, never hidden), so the
harness's throughput is events delivered per second (users / interval when
nothing stalls), its CPU per request is server CPU per delivered event, and
its percentiles are delivery delays. bench/analyse/held.py fits server memory and
threads against held connections and says how many each configuration kept.
Under ASGI Django consumes a sync iterator whole before sending it, so the
sync SSE view under uvicorn delivers nothing until its stream ends.

Long-poll events arrive in bursts at each tick of the clock: a window of D
seconds holds D or D + 1 bursts, so one repeat's events/s may read up to 1/D
high (the window's phase is random, so it averages out over repeats).
"""

import time

import gevent
from _support import BenchUser, style_of
from locust.user.task import LOCUST_STATE_STOPPING

INTERVAL_MS = 1000  # must match the interval in the endpoints and the primary below
OPEN_MARGIN_S = 10  # ramp-up of thousands of users, on top of warm-up, window and drain
PLAIN_STREAM_S = 60  # plain `locust -f` without a run time: a stream is reopened after this


def deliver(user: BenchUser, name: str, delay_ms: float, length: int, error=None) -> None:
    """One delivered event as a request sample whose response time is its delay."""
    user.environment.events.request.fire(
        request_type="EVENT",
        name=name,
        response_time=delay_ms,
        response_length=length,
        exception=error,
        context={},
    )


def stream_seconds(user: BenchUser) -> int:
    """A stream long enough to outlast the run: warm-up, window and stop timeout."""
    options = user.environment.parsed_options
    stop = float(getattr(options, "stop_timeout", 0) or 0)
    warmup, window = (
        getattr(options, "bench_warmup", None),
        getattr(options, "bench_duration", None),
    )
    if warmup is not None and window is not None:  # under the harness
        return int(warmup + window + stop) + OPEN_MARGIN_S
    run_time = getattr(options, "run_time", None)
    return int(run_time + stop) + OPEN_MARGIN_S if run_time else PLAIN_STREAM_S


def backoff() -> None:
    """After a failure, wait one interval before trying again (as EventSource does)."""
    gevent.sleep(INTERVAL_MS / 1000)


class SseUser(BenchUser):
    # The primer's page: a one-event stream. Users ask for streams as long as the run.
    endpoint = "sse?interval=1000&seconds=1"

    def request(self) -> None:
        style = style_of(self)
        name = f"{style}/sse?interval={INTERVAL_MS}"
        path = f"/{style}/sse?interval={INTERVAL_MS}&seconds={stream_seconds(self)}"
        response = self.client.get(path, name=f"{name} open", stream=True)
        if response.status_code != 200:
            backoff()  # locust recorded the failed open itself
            return
        # geventhttpclient's own response: readline returns each line as it
        # arrives (iter_content would wait for whole chunks of its size).
        raw = response._response
        try:
            while line := raw.readline(b"\n"):
                if line.startswith(b"data:"):
                    arrived = time.time()
                    deliver(self, name, (arrived - float(line[5:])) * 1000, len(line))
                    if self._state == LOCUST_STATE_STOPPING:
                        return  # the run is over: leave now, not at the stop timeout
        except Exception as exc:
            deliver(self, name, 0.0, 0, exc)
            backoff()


class LongPollUser(BenchUser):
    endpoint = "longpoll?interval=1000"

    def request(self) -> None:
        style = style_of(self)
        name = f"{style}/{self.endpoint}"
        response = self.client.get(f"/{style}/{self.endpoint}", name=f"{name} poll")
        arrived = time.time()
        if response.status_code != 200:
            backoff()  # locust recorded the failed poll itself
            return
        try:
            due_ms = response.json()["due_ms"]
        except Exception as exc:
            deliver(self, name, 0.0, 0, exc)
            backoff()
            return
        deliver(self, name, arrived * 1000 - due_ms, len(response.content))


BENCH = {
    "name": "held",
    "groups": ["held"],  # not in make bench: run it with --scenario held
    "endpoints": {"sse": "SseUser", "longpoll": "LongPollUser"},
    "styles": ["sync", "async"],
    "stacks": ["none"],
    "servers": ["gunicorn-gthread", "uvicorn"],
    "users": [100, 1000, 5000],  # held connections
    "threads_per_user": True,
    # Opening thousands of connections takes seconds (about 1 ms each of server
    # work, and the listen backlog of 2048 overflows): 10 s of warm-up at 5,000.
    "warmup_per_user": 0.002,
    "primary": "EVENT {style}/{endpoint}?interval=1000",
    # ASGI + async against WSGI + sync at every count, and what a sync stream
    # does under ASGI (consumed whole before sending) at 100 only.
    "default": {
        "exclude": [
            {"server": "gunicorn-gthread", "style": "async"},
            {"server": "uvicorn", "style": "sync", "endpoint": "longpoll"},
            {"server": "uvicorn", "style": "sync", "users": 1000},
            {"server": "uvicorn", "style": "sync", "users": 5000},
        ]
    },
}
