"""async-safety: the sync ORM called straight from an async view, a deliberate mistake.

Django's async-safety guard raises SynchronousOnlyOperation when sync-only
code (the ORM, here one World.objects.get) runs in an async context, instead
of letting it block the event loop. The view ``orm-unsafe`` makes exactly that
mistake, so every request is a 500: this scenario measures nothing, it shows
what a user sees when a view gets it wrong. The primer request gets the 500
and the cell fails before any load is sent, its reason naming the exception
the server logged; the report lists the cell as failed, with no figure.
Nothing in the harness, the project or the scenarios switches the guard off
through its environment variable (a test checks every file).
"""

from _support import BenchUser


class UnsafeOrmUser(BenchUser):
    endpoint = "orm-unsafe"


BENCH = {
    "name": "async-safety",
    "groups": ["safety"],  # fails by design: kept out of the docs group, whose runs should complete
    "endpoints": {"orm-unsafe": "UnsafeOrmUser"},
    "styles": ["async"],
    "stacks": ["none"],
    "servers": ["uvicorn"],
    "users": [8],
    "database": True,
}
