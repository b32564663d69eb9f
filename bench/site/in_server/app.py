"""The server-side wrapper around a user's own WSGI or ASGI application.

Servers started for ``--project`` serve ``bench.site.in_server.app:wsgi_application``
or ``bench.site.in_server.app:asgi_application``. Each imports the user's application
named in ``BENCH_SITE_WSGI`` / ``BENCH_SITE_ASGI`` ("module:attribute") and,
when the run counts switches, wraps it with the same switch accounting as
the bundled project: asgiref's adapters are counted at class level, so every
sync<->async hop their middleware and views make is counted without a line
of their code changing.

It also listens to Django's ``got_request_exception`` when the harness names a
directory for it (``bench.site.in_server.exception_files``): with DEBUG off a failed request
leaves nothing in the server log, and the report must still say what failed.

This module runs inside the user's server process, never in the harness.
The accounting code lives in this repository's ``project`` package, and a
user's own top-level package may well be called ``project`` too (``django-admin
startproject project .`` is common). So the accounting is imported with the
harness's directory first on ``sys.path`` and then moved to private module
names, leaving ``project`` free for theirs.
"""

import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.site.in_server import exception_files

# The checkout this module is in (bench/site/in_server/app.py): bench.ROOT, computed
# here because code that runs in the server imports only its own package.
HARNESS_ROOT = str(Path(__file__).resolve().parents[3])
_PRIVATE_PREFIX = "_djbench_"


def _accounting() -> ModuleType:
    """``project.accounting`` of this repository, under a private name."""
    private = _PRIVATE_PREFIX + "accounting"
    if private in sys.modules:
        return sys.modules[private]
    theirs = {name: module for name, module in sys.modules.items() if _is_project(name)}
    for name in theirs:
        del sys.modules[name]
    sys.path.insert(0, HARNESS_ROOT)
    try:
        module = importlib.import_module("project.accounting")
    finally:
        sys.path.remove(HARNESS_ROOT)
        for name in [name for name in sys.modules if _is_project(name)]:
            sys.modules[_PRIVATE_PREFIX + name.replace(".", "_")] = sys.modules.pop(name)
        sys.modules.update(theirs)
    sys.modules[private] = module
    return module


def _is_project(name: str) -> bool:
    return name == "project" or name.startswith("project.")


def _load(variable: str) -> Callable:
    target = os.environ.get(variable)
    if not target:
        raise RuntimeError(f"{variable} is not set: the harness names the user's application")
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute or "application")


def listen_for_exceptions(directory: str | None) -> None:
    """Record the first exception of each failing path in ``directory``.

    Django sends the signal from inside its ``except`` block (under ASGI, asgiref
    re-raises the exception in the thread that runs the receivers), so
    ``sys.exc_info`` holds the exception; the signal itself does not carry it.
    """
    if not directory:
        return
    from django.core.signals import got_request_exception

    recorder = exception_files.Recorder(Path(directory))

    def on_exception(sender: Any, request: Any = None, **kwargs: Any) -> None:
        exc = sys.exc_info()[1]
        if exc is not None:
            recorder.record(getattr(request, "path", None) or "(no request)", exc)

    got_request_exception.connect(on_exception, weak=False, dispatch_uid="bench.site.in_server.app")


def _wrapped(variable: str, wrapper: str) -> Callable:
    application = _load(variable)  # their module runs django.setup()
    listen_for_exceptions(os.environ.get(exception_files.ENV))
    if os.environ.get("BENCH_SWITCH_ACCOUNTING", "") != "1":
        return application
    return getattr(_accounting(), wrapper)(application)


def __getattr__(name: str) -> Callable:
    # Lazily, so that a WSGI server never imports the user's ASGI module and
    # the other way round (either may be missing or fail on its own).
    # Built once: a second wrapping would count every request twice.
    sources = {
        "wsgi_application": ("BENCH_SITE_WSGI", "wrap_wsgi"),
        "asgi_application": ("BENCH_SITE_ASGI", "wrap_asgi"),
    }
    if name not in sources:
        raise AttributeError(name)
    application = _wrapped(*sources[name])
    globals()[name] = application
    return application
