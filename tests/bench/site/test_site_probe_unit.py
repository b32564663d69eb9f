"""bench.site.in_site.probe: the thread hops of each path, served in-process.

A small ASGI application of this module makes a known number of hops per
request, named by the functions it hands to asgiref, so the probe's counts
have exact answers: per counted request, never the warm-up one.
"""

import asyncio
import functools

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.core.signals import got_request_exception

from bench.site.in_site import probe

ENTRY = f"{__name__}:application"
served: list[tuple[str, str]] = []  # (path, host header) of every request


def render_page() -> str:
    return "page"


def fetch_price() -> int:
    return async_to_sync(lookup_price)()  # a sync helper calling back into async code


async def lookup_price() -> int:
    return 7


class Pricing:
    def quote(self) -> int:
        return 3


def fail_in_a_view() -> None:
    """As Django does for a view that raises: got_request_exception from inside ``except``."""
    try:
        raise ValueError("bad   order\n id")
    except ValueError:
        got_request_exception.send(sender=None, request=None)


async def application(scope, receive, send) -> None:
    assert scope["type"] == "http" and scope["method"] == "GET"
    headers = dict(scope["headers"])
    served.append((scope["path"], headers[b"host"].decode()))
    message = await receive()
    assert message == {"type": "http.request", "body": b"", "more_body": False}
    status = 200
    if scope["path"] == "/page":
        await sync_to_async(render_page)()
        await sync_to_async(render_page)()
        await sync_to_async(fetch_price)()
    elif scope["path"] == "/quote":
        await sync_to_async(functools.partial(Pricing().quote))()
    elif scope["path"] == "/fails":
        await sync_to_async(fail_in_a_view)()
        status = 500
    elif scope["path"] == "/slow":
        await asyncio.sleep(5)
    elif scope["path"] == "/crash":
        raise RuntimeError("the app\nbroke")
    else:
        status = 404
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


@pytest.fixture(autouse=True)
def _fresh():
    served.clear()


def test_hops_are_counted_per_request_by_what_they_run():
    report = probe.probe(ENTRY, ["/page", "/quote", "/none"], "example.com")
    assert report["error"] is None
    assert report["requests_per_path"] == probe.REQUESTS_PER_PATH
    page = report["paths"]["/page"]
    assert page["status"] == 200 and page["exception"] is None
    # two renders and one fetch per request, exactly: the warm-up request is not counted
    assert page["sync_to_async"] == {f"{__name__}.fetch_price": 1.0, f"{__name__}.render_page": 2.0}
    assert page["async_to_sync"] == {f"{__name__}.lookup_price": 1.0}
    # a partial of a bound method is named by the method's class
    assert report["paths"]["/quote"]["sync_to_async"] == {f"{__name__}.Pricing.quote": 1.0}
    assert report["paths"]["/none"] == {
        "status": 404, "exception": None, "sync_to_async": {}, "async_to_sync": {}
    }  # fmt: skip
    # one warm-up and the counted requests per path, in order, with the host given
    per_path = probe.REQUESTS_PER_PATH + 1
    assert served == [
        (p, "example.com") for p in ["/page", "/quote", "/none"] for _ in range(per_path)
    ]


def test_the_adapters_are_restored_after_probing():
    from asgiref.sync import AsyncToSync, SyncToAsync

    before = (SyncToAsync.__call__, AsyncToSync.__call__)
    probe.probe(ENTRY, ["/page"], "h")
    assert (SyncToAsync.__call__, AsyncToSync.__call__) == before


def test_an_exception_a_path_raised_is_kept_on_one_line():
    listening = len(got_request_exception.receivers)
    report = probe.probe(ENTRY, ["/fails"], "h")
    assert report["paths"]["/fails"]["status"] == 500
    assert report["paths"]["/fails"]["exception"] == "ValueError: bad order id"
    assert report["error"] is None
    assert len(got_request_exception.receivers) == listening  # the probe's receiver is gone


def test_an_app_that_crashes_keeps_the_paths_served_before_it():
    report = probe.probe(ENTRY, ["/quote", "/crash", "/page"], "h")
    assert report["error"] == "RuntimeError: the app broke"
    assert list(report["paths"]) == ["/quote"]
    assert report["paths"]["/quote"]["status"] == 200


def test_a_request_that_never_ends_is_a_timeout(monkeypatch):
    monkeypatch.setattr(probe, "REQUEST_TIMEOUT_S", 0.05)
    report = probe.probe(ENTRY, ["/slow"], "h")
    assert report["error"] == "a request took longer than 0.05 s"
    assert report["paths"] == {}


def test_an_entry_that_does_not_import_is_the_error():
    report = probe.probe("no_such_module_here:app", ["/"], "h")
    assert report["error"] == "ModuleNotFoundError: No module named 'no_such_module_here'"
    assert report["paths"] == {}


def test_one_line_joins_and_cuts_a_message():
    assert probe.one_line(KeyError()) == "KeyError"
    assert probe.one_line(OSError("a\n  b\tc")) == "OSError: a b c"
    assert len(probe.one_line(ValueError("x" * 1000))) == probe.ONE_LINE_LIMIT
