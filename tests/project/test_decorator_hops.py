"""Wrapping a view in any of Django's async-capable decorators adds no switch.

The decorators scenario measures what each decorator costs per request; the
switch half of that question has an exact answer, checked here: under WSGI
and ASGI, for sync and async views, a decorated view makes the same
sync_to_async / async_to_sync hops as the undecorated json view.
"""

import pytest

from project import accounting
from project.workloads import decorated

HOPS = ("sync_to_async", "async_to_sync", "async_to_sync_new_loop")


@pytest.fixture(scope="module", autouse=True)
def installed():
    accounting.install()


def hops(request_via, kind, app, target, method="GET"):
    request_via(kind, app, target, method=method)  # warm: first calls build caches
    before = accounting.counters().snapshot()
    reply = request_via(kind, app, target, method=method)
    after = accounting.counters().snapshot()
    assert reply.status == 200, (target, reply.status)
    return tuple(after[name] - before[name] for name in HOPS)


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
@pytest.mark.parametrize("style", ["sync", "async"])
def test_no_decorator_adds_a_hop(handlers, request_via, kind, style):
    app = dict(zip(("wsgi", "asgi"), handlers("none"), strict=True))[kind]
    baseline = hops(request_via, kind, app, f"/{style}/json")
    counts = {
        name: hops(
            request_via,
            kind,
            app,
            f"/{style}/deco/{name}",
            method="POST" if name == "require_POST" else "GET",
        )
        for name in decorated.DECORATORS
    }
    assert {name: count for name, count in counts.items() if count != baseline} == {}
