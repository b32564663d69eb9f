"""The async-safety guard holds: nothing here turns it off."""

import logging
import os
from pathlib import Path

import pytest
from django.core.exceptions import SynchronousOnlyOperation

from project.urls import DELIBERATE_MISTAKES, WORKLOADS

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "project"


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
def test_sync_orm_inside_an_async_view_raises_synchronous_only_operation(
    handlers, request_via, caplog, kind
):
    # /async/orm-unsafe makes the mistake the guard exists for. Under WSGI the
    # async view runs in a fresh event loop, an async context all the same.
    app = dict(zip(("wsgi", "asgi"), handlers("none"), strict=True))[kind]
    with caplog.at_level(logging.ERROR, logger="django.request"):
        reply = request_via(kind, app, "/async/orm-unsafe")
    assert reply.status == 500
    errors = [r.exc_info[0] for r in caplog.records if r.exc_info]
    assert errors == [SynchronousOnlyOperation]


def test_the_deliberate_mistake_is_async_only_and_named_as_one():
    assert DELIBERATE_MISTAKES == {"orm-unsafe"}
    assert WORKLOADS["orm-unsafe"][0] is None


def test_nothing_sets_django_allow_async_unsafe():
    # It would silence the guard for every server the harness starts: the
    # harness, the project and the scenarios never name it.
    assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ
    sources = [
        path
        for folder in ("bench", "project", "scenarios")
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]
    assert len([path for path in sources if path.suffix == ".py"]) > 50
    run_py = ROOT / "bench" / "serve" / "servers.py"
    for source in sources:
        text = source.read_bytes()
        if source == run_py:
            # named once, as the variable the run removes from its servers' environment
            assert text.count(b"DJANGO_ALLOW_ASYNC_UNSAFE") == 1, source
            assert b'ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"' in text
            continue
        assert b"DJANGO_ALLOW_ASYNC_UNSAFE" not in text, source


def test_the_run_never_passes_async_unsafe_on_to_its_servers(monkeypatch):
    from bench.run.options import RunOptions, base_env

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in base_env(RunOptions())


def test_debug_is_off_and_the_secret_key_comes_from_outside():
    from django.conf import settings

    assert settings.DEBUG is False
    assert os.environ["DJANGO_SECRET_KEY"] == settings.SECRET_KEY
    assert settings.ALLOWED_HOSTS[:3] == ["127.0.0.1", "localhost", "[::1]"]
    assert 'SECRET_KEY = "' not in (PROJECT / "settings.py").read_text()


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
@pytest.mark.parametrize("host", ["evil.example", "10.0.0.1"])
def test_non_loopback_host_headers_are_rejected(handlers, request_via, kind, host):
    # Django checks ALLOWED_HOSTS when something reads the host (CommonMiddleware
    # does), so the check is made with the default stack.
    app = dict(zip(("wsgi", "asgi"), handlers("django"), strict=True))[kind]
    assert request_via(kind, app, "/sync/json", headers=[("Host", host)]).status == 400
