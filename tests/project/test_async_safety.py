"""The async-safety guard holds: the project never turns it off."""

import logging
import os
from pathlib import Path

import pytest
from django.core.exceptions import SynchronousOnlyOperation
from django.test import override_settings
from django.urls import path

from project.workloads import data, responses

PROJECT = Path(__file__).resolve().parents[2] / "project"


async def sync_orm_in_async_view(request):
    return responses.one_world(data.world(1))  # the mistake the guard exists for


urlpatterns = [path("async/unsafe", sync_orm_in_async_view)]


def test_sync_orm_inside_an_async_view_raises_synchronous_only_operation(caplog):
    from django.core.handlers.asgi import ASGIHandler
    from helpers.inprocess import call_asgi

    with override_settings(ROOT_URLCONF=__name__, MIDDLEWARE=[]):
        app = ASGIHandler()
        with caplog.at_level(logging.ERROR, logger="django.request"):
            reply = call_asgi(app, "/async/unsafe")
    assert reply.status == 500
    errors = [r.exc_info[0] for r in caplog.records if r.exc_info]
    assert errors == [SynchronousOnlyOperation]


def test_the_project_never_sets_django_allow_async_unsafe():
    assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ
    for source in PROJECT.rglob("*.py"):
        assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in source.read_text(), source


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
