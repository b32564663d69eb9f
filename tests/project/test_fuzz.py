"""Bad input to every endpoint: never a 500, never a traceback.

Arbitrary query strings, methods, headers and bodies go to every endpoint of
both styles under both handlers, with and without middleware. The answer is
200 (parameters clamped) or a 4xx. The waits themselves (sleeps, the
upstream's delay) and the burn workload's CPU are switched off so that
clamped values up to 10 s cost nothing: what is fuzzed is how requests are
read, not how long views wait. For the same reason the upstream answers
in-process, through httpx's transport, as the real one does with its waits
off: a fan-out clamped to 500 calls would otherwise open 500 connections per
example (over a minute for one endpoint). tests/project/test_workloads.py
calls the real upstream over the network.
"""

import asyncio
import functools
import json
import types
import warnings
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from project.urls import DELIBERATE_MISTAKES, STYLES, WORKLOADS
from project.workloads import async_views, responses, sync_views, upstream_client

SERVED = [
    f"/{style}/{name}"
    for name, pair in WORKLOADS.items()
    for style, view in zip(STYLES, pair, strict=True)
    if view is not None
]
# A deliberate mistake answers 500 to everything: tests/project/test_async_safety.py.
ENDPOINTS = [
    endpoint for endpoint in SERVED if endpoint.split("/", 2)[2] not in DELIBERATE_MISTAKES
]
PARAMETERS = ["n", "ms", "chunks", "seed", "call", "x", ""]
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "BREW"]
header_names = st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,24}\Z")
header_values = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=60)
values = st.one_of(
    st.integers(min_value=-20, max_value=1200).map(str),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(max_size=30),
    st.sampled_from(["", " ", "1e3", "0x10", "\uff11\uff12", "-0", "NaN", "inf", "5000", "501"]),
)
queries = st.one_of(
    st.dictionaries(st.sampled_from(PARAMETERS), values, max_size=4).map(urlencode),
    st.text(max_size=60).map(lambda text: quote(text, safe="=&%")),
)


async def _no_wait(seconds: float) -> None:
    return None


def _upstream_answer(request: httpx.Request) -> httpx.Response:
    """What project.upstream answers with its waits off: the call number, no wait."""
    try:
        call = min(max(int(request.url.params.get("call", "0")), 0), 1_000_000)
    except ValueError:
        call = 0
    return httpx.Response(200, json={"call": call, "waited_ms": 0})


@pytest.fixture(scope="module", autouse=True)
def no_waiting():
    """The views' waits and burns, replaced for this module only."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(responses, "burn", lambda ms: None)
        # the held workloads wait on the wall clock for their events: none is late here
        patch.setattr(responses, "seconds_until", lambda due: 0.0)
        patch.setattr(sync_views, "time", types.SimpleNamespace(sleep=lambda seconds: None))
        patch.setattr(
            async_views,
            "asyncio",
            types.SimpleNamespace(
                sleep=_no_wait, gather=asyncio.gather, CancelledError=asyncio.CancelledError
            ),
        )
        transport = httpx.MockTransport(_upstream_answer)
        patch.setattr(
            upstream_client,
            "httpx",
            types.SimpleNamespace(
                Client=functools.partial(httpx.Client, transport=transport),
                AsyncClient=functools.partial(httpx.AsyncClient, transport=transport),
            ),
        )
        upstream_client.close_sync_client()  # the next one is made with the transport
        try:
            yield
        finally:
            upstream_client.close_sync_client()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["wsgi", "asgi"]),
    stack=st.sampled_from(["none", "django"]),
    method=st.sampled_from(METHODS),
    query=queries,
    headers=st.lists(st.tuples(header_names, header_values), max_size=4),
    body=st.binary(max_size=300),
)
def test_any_request_is_answered_200_or_4xx(
    handlers, request_via, endpoint, kind, stack, method, query, headers, body
):
    app = dict(zip(("wsgi", "asgi"), handlers(stack), strict=True))[kind]
    target = f"{endpoint}?{query}" if query else endpoint
    with warnings.catch_warnings():
        # A stream of the other style is consumed whole first, and Django says so.
        warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume")
        reply = request_via(kind, app, target, method=method, headers=headers, body=body)
    assert reply.status < 500, (target, method, reply.status, reply.body[:300])
    assert 200 <= reply.status, reply.status
    assert b"Traceback" not in reply.body
    if reply.status == 200 and method == "GET" and endpoint.endswith(("/queries", "/updates")):
        rows = json.loads(reply.body)
        assert 1 <= len(rows) <= 500


@settings(max_examples=100, deadline=None)
@given(
    path=st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=40),
    kind=st.sampled_from(["wsgi", "asgi"]),
)
def test_unknown_paths_are_404(handlers, request_via, path, kind):
    target = "/" + quote(path, safe="/")
    if target.split("?")[0] in SERVED:
        return
    app = dict(zip(("wsgi", "asgi"), handlers("none"), strict=True))[kind]
    assert request_via(kind, app, target.split("?")[0]).status == 404
