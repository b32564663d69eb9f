"""The json workload as other kinds of view, to check Django sees each one's style.

A class-based view is async when its handlers are ``async def``; a callable
object is async when marked with ``markcoroutinefunction``. Django should then
call each in its own style with no adapter around the view itself.
"""

from asgiref.sync import markcoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.views import View

from project.workloads import responses


class SyncJsonView(View):
    http_method_names = ["get", "head"]

    def get(self, request: HttpRequest) -> HttpResponse:
        return responses.message()


class AsyncJsonView(View):
    http_method_names = ["get", "head"]

    async def get(self, request: HttpRequest) -> HttpResponse:
        return responses.message()


class SyncJsonCallable:
    def __call__(self, request: HttpRequest) -> HttpResponse:
        return responses.message()


class AsyncJsonCallable:
    def __init__(self) -> None:
        markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        return responses.message()


sync_cbv = SyncJsonView.as_view()
async_cbv = AsyncJsonView.as_view()
sync_callable = SyncJsonCallable()
async_callable = AsyncJsonCallable()
