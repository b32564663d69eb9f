"""Switch accounting: exact hop counts on the pinned Django, and the endpoint's rules.

The counts were measured on Django 6.1.3 / asgiref 3.13.0 with this project's
views and stacks; a change in either shows up here first.
"""

import json

import pytest

from project import accounting

HOPS = ("sync_to_async", "async_to_sync", "async_to_sync_new_loop")


@pytest.fixture(scope="module", autouse=True)
def installed():
    accounting.install()


def hops(request_via, kind, app, target):
    before = accounting.counters().snapshot()
    reply = request_via(kind, app, target)
    after = accounting.counters().snapshot()
    assert reply.status == 200, reply.body
    return tuple(after[name] - before[name] for name in HOPS)


@pytest.mark.parametrize(
    ("kind", "stack", "style", "expected"),
    [
        # (sync_to_async, async_to_sync, of which on a new event loop)
        ("wsgi", "none", "async", (0, 1, 1)),
        ("wsgi", "none", "sync", (0, 0, 0)),
        ("wsgi", "django", "sync", (0, 0, 0)),
        ("wsgi", "django", "async", (0, 1, 1)),
        ("asgi", "none", "sync", (3, 0, 0)),
        ("asgi", "none", "async", (2, 0, 0)),
        ("asgi", "django", "sync", (16, 0, 0)),
        ("asgi", "django", "async", (15, 0, 0)),
        ("asgi", "sync", "sync", (4, 1, 0)),
        ("asgi", "async", "async", (2, 0, 0)),
        ("asgi", "mixed", "async", (3, 1, 0)),
        ("asgi", "mixed", "sync", (4, 1, 0)),
        ("wsgi", "async", "sync", (1, 1, 1)),
        ("wsgi", "mixed", "async", (2, 3, 1)),
    ],
)
def test_hops_per_request(handlers, request_via, kind, stack, style, expected):
    app = dict(zip(("wsgi", "asgi"), handlers(stack), strict=True))[kind]
    request_via(kind, app, f"/{style}/json")  # first request pays one-off set-up
    assert hops(request_via, kind, app, f"/{style}/json") == expected
    assert hops(request_via, kind, app, f"/{style}/json") == expected


def test_the_async_orm_adds_one_hop_per_query(handlers, request_via):
    _, asgi = handlers("none")
    base = hops(request_via, "asgi", asgi, "/async/json")[0]
    assert hops(request_via, "asgi", asgi, "/async/db")[0] == base + 1
    assert hops(request_via, "asgi", asgi, "/async/queries?n=5")[0] == base + 5
    # The documented transaction pattern: one hop for the whole atomic block.
    assert hops(request_via, "asgi", asgi, "/async/updates-atomic?n=5")[0] == base + 1


@pytest.mark.parametrize(
    ("kind", "style"), [("asgi", "async"), ("asgi", "sync"), ("wsgi", "async")]
)
def test_the_burn_adds_cpu_but_no_hop(handlers, request_via, kind, style):
    # The async burn runs on the event loop, not through sync_to_async.
    app = dict(zip(("wsgi", "asgi"), handlers("none"), strict=True))[kind]
    request_via(kind, app, f"/{style}/burn?ms=0")
    assert hops(request_via, kind, app, f"/{style}/burn?ms=1") == hops(
        request_via, kind, app, f"/{style}/json"
    )


def test_bridge_hops_and_thread_sensitivity(handlers, request_via):
    _, asgi = handlers("none")
    before = accounting.counters().snapshot()
    request_via("asgi", asgi, "/async/bridge-nts")
    after = accounting.counters().snapshot()
    calls = after["sync_to_async"] - before["sync_to_async"]
    sensitive = after["sync_to_async_thread_sensitive"] - before["sync_to_async_thread_sensitive"]
    assert (calls, sensitive) == (3, 2)
    # A sync view calling the async ORM: out to the loop and back into a thread.
    wsgi, _ = handlers("none")
    assert hops(request_via, "wsgi", wsgi, "/sync/bridge-a2s") == (1, 1, 1)


def test_times_are_recorded_and_inner_time_is_within_total(handlers, request_via):
    _, asgi = handlers("django")
    before = accounting.counters().snapshot()
    request_via("asgi", asgi, "/sync/io?ms=20")
    after = accounting.counters().snapshot()
    total = after["sync_to_async_ns"] - before["sync_to_async_ns"]
    inner = after["sync_to_async_inner_ns"] - before["sync_to_async_inner_ns"]
    assert inner >= 20_000_000  # the sleeping view ran inside a hop
    assert 0 < total - inner < total


def test_requests_are_counted_and_the_endpoint_reports_totals(handlers, request_via):
    wsgi, asgi = handlers("none")
    wrapped_wsgi, wrapped_asgi = accounting.wrap_wsgi(wsgi), accounting.wrap_asgi(asgi)
    first = json.loads(request_via("asgi", wrapped_asgi, accounting.ENDPOINT).body)
    request_via("asgi", wrapped_asgi, "/sync/json")
    request_via("wsgi", wrapped_wsgi, "/async/json")
    second = json.loads(request_via("wsgi", wrapped_wsgi, accounting.ENDPOINT).body)
    assert second["totals"]["requests"] - first["totals"]["requests"] == 2
    assert second["totals"]["sync_to_async"] - first["totals"]["sync_to_async"] == 3
    assert second["totals"]["async_to_sync"] - first["totals"]["async_to_sync"] == 1
    assert set(second["totals"]) == set(accounting.FIELDS)


def test_the_endpoint_answers_loopback_clients_only(handlers, request_via):
    wsgi, asgi = handlers("none")
    wrapped_wsgi, wrapped_asgi = accounting.wrap_wsgi(wsgi), accounting.wrap_asgi(asgi)
    for client in (("10.1.2.3", 4000), ("192.168.0.9", 1), None):
        reply = request_via("asgi", wrapped_asgi, accounting.ENDPOINT, client=client)
        assert reply.status == 403
    assert (
        request_via("wsgi", wrapped_wsgi, accounting.ENDPOINT, remote_addr="8.8.8.8").status == 403
    )
    assert request_via("asgi", wrapped_asgi, accounting.ENDPOINT, client=("::1", 5)).status == 200


def test_counter_files_of_several_processes_are_summed(tmp_path):
    first, second = (
        accounting.Counters(tmp_path / "101.counters"),
        accounting.Counters(tmp_path / "202.counters"),
    )
    first.add(0, 5)
    second.add(0, 7)
    second.add_hop(1, True, 900)
    second.add(4, 400)
    (tmp_path / "junk.counters").write_bytes(b"short")
    report = accounting.read_directory(tmp_path)
    assert report["pids"] == [101, 202]
    assert report["totals"]["requests"] == 12
    assert report["totals"]["sync_to_async"] == 1
    assert report["totals"]["sync_to_async_thread_sensitive"] == 1
    assert report["totals"]["sync_to_async_ns"] == 900
    assert report["totals"]["sync_to_async_inner_ns"] == 400
