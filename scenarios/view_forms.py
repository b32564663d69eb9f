"""view_forms: one JSON answer as a function, a class-based view and a callable object.

Django's documentation (topics/async, "Async views") says any view can be
async if its callable returns a coroutine: a function with ``async def``; a
class-based view by declaring its HTTP method handlers (``get()``,
``post()``) ``async def``, not ``__init__()`` or ``as_view()``; and anything
else by marking it with ``markcoroutinefunction``, because Django decides with
``iscoroutinefunction``. A form Django misread would be run through an
adapter (one more sync_to_async hop per request, or a view that never
awaits). So the three forms should cost the same apart from their own
dispatch: a class-based view builds an instance and runs ``setup()`` and
``dispatch()`` per request, a callable object and a function do neither.

Endpoints: ``json`` (plain ``async def`` / ``def``), ``json-cbv``
(``View`` with ``async def get`` / ``def get``) and ``json-callable`` (an
object with ``markcoroutinefunction`` / a plain ``__call__``), all answering
the same 27 bytes, with the ``none`` stack so middleware does not hide the
difference. Hops per request are recorded in every cell and must be equal
across the three forms; CPU ms per request against ``json`` is the price of
the form. By default the async forms under uvicorn; ``--full`` adds the sync
forms under gunicorn-gthread and the mismatched pairs (sync forms under
uvicorn, async forms under gthread).
"""

from _support import BenchUser


class FunctionUser(BenchUser):
    endpoint = "json"


class ClassBasedUser(BenchUser):
    endpoint = "json-cbv"


class CallableUser(BenchUser):
    endpoint = "json-callable"


BENCH = {
    "name": "view_forms",
    "baseline": "json",  # the verdicts compare every other endpoint with it
    "groups": ["docs"],  # the async documentation's claims about views
    "endpoints": {
        "json": "FunctionUser",
        "json-cbv": "ClassBasedUser",
        "json-callable": "CallableUser",
    },
    "styles": ["sync", "async"],
    "stacks": ["none"],
    "servers": ["gunicorn-gthread", "uvicorn"],
    "users": [32],
    "default": {
        "servers": ["uvicorn"],
        "styles": ["async"],
    },
}
