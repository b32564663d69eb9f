"""Custom middleware whose only difference is their sync/async mode.

Every class adds one header, ``X-Bench-Mw-<slot>``, so the work per request is
the same whether Django runs it natively or adapts it with sync_to_async /
async_to_sync. What a stack costs beyond that work is the adaptation.
"""

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase


def _mark(response: HttpResponseBase, slot: int) -> HttpResponseBase:
    response[f"X-Bench-Mw-{slot}"] = "1"
    return response


class _SyncOnly:
    """A middleware Django must call from a thread (async_capable = False)."""

    sync_capable = True
    async_capable = False
    slot = 0

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return _mark(self.get_response(request), self.slot)


class _AsyncOnly:
    """A native coroutine middleware (sync_capable = False), as Django's docs show."""

    sync_capable = False
    async_capable = True
    slot = 0

    def __init__(self, get_response):
        if not iscoroutinefunction(get_response):
            raise TypeError("Django must hand an async-only middleware an async get_response")
        self.get_response = get_response
        markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return _mark(await self.get_response(request), self.slot)


class SyncOnlyHeader1(_SyncOnly):
    slot = 1


class SyncOnlyHeader2(_SyncOnly):
    slot = 2


class SyncOnlyHeader3(_SyncOnly):
    slot = 3


class AsyncOnlyHeader1(_AsyncOnly):
    slot = 1


class AsyncOnlyHeader2(_AsyncOnly):
    slot = 2


class AsyncOnlyHeader3(_AsyncOnly):
    slot = 3
