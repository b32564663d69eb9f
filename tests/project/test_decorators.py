"""Django's async-capable decorators work the same on sync and async views."""

import gzip
import json
import logging

import pytest
from asgiref.sync import iscoroutinefunction
from django.http import HttpResponse
from django.test import override_settings
from django.urls import path
from django.views.debug import ExceptionReporter

from project.workloads import decorated

STYLES = ["sync", "async"]


@pytest.fixture
def call(handlers, request_via):
    """call(kind, style, name, **request kwargs) through the `none` stack."""

    def request(kind, style, name, **kwargs):
        app = dict(zip(("wsgi", "asgi"), handlers("none"), strict=True))[kind]
        return request_via(kind, app, f"/{style}/deco/{name}", **kwargs)

    return request


@pytest.mark.parametrize("name", list(decorated.DECORATORS))
def test_decorators_keep_each_view_in_its_own_style(name):
    assert not iscoroutinefunction(decorated.SYNC_VIEWS[name])
    assert iscoroutinefunction(decorated.ASYNC_VIEWS[name])


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
@pytest.mark.parametrize("style", STYLES)
def test_decorator_effects(call, kind, style):
    def get(name, **kwargs):
        return call(kind, style, name, **kwargs)

    assert "max-age=60" in get("cache_control").header("Cache-Control")
    assert "no-store" in get("never_cache").header("Cache-Control")
    cached = get("cache_page")
    assert "max-age=60" in cached.header("Cache-Control") and cached.header("Expires")

    assert get("csrf_protect", method="POST").status == 403
    assert get("csrf_exempt", method="POST").status == 200
    assert get("requires_csrf_token", method="POST").status == 200
    assert "csrftoken=" in " ".join(get("ensure_csrf_cookie").all("Set-Cookie"))

    for name in ("condition", "etag"):
        assert get(name).header("ETag") == decorated.ETAG
        assert get(name, headers=[("If-None-Match", decorated.ETAG)]).status == 304
    modified = get("last_modified")
    assert modified.header("Last-Modified") == "Thu, 01 Jan 2026 00:00:00 GMT"
    since = [("If-Modified-Since", "Fri, 02 Jan 2026 00:00:00 GMT")]
    assert get("last_modified", headers=since).status == 304

    zipped = get("gzip_page", headers=[("Accept-Encoding", "gzip")])
    assert zipped.header("Content-Encoding") == "gzip"
    assert json.loads(gzip.decompress(zipped.body)) == decorated.PAYLOAD

    assert get("require_http_methods", method="POST").status == 405
    assert get("require_GET", method="POST").status == 405
    assert get("require_POST").status == 405
    assert get("require_POST", method="POST").status == 200
    assert get("require_safe", method="HEAD").status == 200
    assert get("require_safe", method="DELETE").status == 405

    assert "Cookie" in get("vary_on_cookie").header("Vary")
    assert "X-Bench-Vary" in get("vary_on_headers").header("Vary")

    assert get("xframe_options_deny").header("X-Frame-Options") == "DENY"
    assert get("xframe_options_sameorigin").header("X-Frame-Options") == "SAMEORIGIN"
    assert get("xframe_options_exempt").header("X-Frame-Options") is None
    assert get("no_append_slash").status == 200
    assert get("sensitive_variables").status == 200
    assert get("sensitive_post_parameters", method="POST").status == 200


@pytest.mark.parametrize("style", STYLES)
def test_xframe_exempt_beats_the_middleware(handlers, request_via, style):
    app = handlers("django")[1]
    assert request_via("asgi", app, f"/{style}/json").header("X-Frame-Options") == "DENY"
    exempt = request_via("asgi", app, f"/{style}/deco/xframe_options_exempt")
    assert exempt.header("X-Frame-Options") is None


@pytest.mark.parametrize("style", STYLES)
def test_no_append_slash_is_marked(style):
    views = decorated.SYNC_VIEWS if style == "sync" else decorated.ASYNC_VIEWS
    assert views["no_append_slash"].should_append_slash is False
    assert views["csrf_exempt"].csrf_exempt is True


# Error reports: the sensitive decorators hide what they name, for both styles.
def _sync_failing(request):
    secret = "hunter2"  # noqa: F841
    raise RuntimeError("boom")


async def _async_failing(request):
    secret = "hunter2"  # noqa: F841
    raise RuntimeError("boom")


sync_failing = decorated.DECORATORS["sensitive_variables"](_sync_failing)
async_failing = decorated.DECORATORS["sensitive_variables"](_async_failing)


def _record_post(request):
    return HttpResponse(repr(getattr(request, "sensitive_post_parameters", None)))


async def _arecord_post(request):
    return HttpResponse(repr(getattr(request, "sensitive_post_parameters", None)))


urlpatterns = [
    path("sync/fail", sync_failing),
    path("async/fail", async_failing),
    path("sync/post", decorated.DECORATORS["sensitive_post_parameters"](_record_post)),
    path("async/post", decorated.DECORATORS["sensitive_post_parameters"](_arecord_post)),
]


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
@pytest.mark.parametrize("style", STYLES)
def test_sensitive_decorators_hide_values_in_error_reports(
    handlers, request_via, caplog, kind, style
):
    from django.core.handlers.asgi import ASGIHandler
    from django.core.handlers.wsgi import WSGIHandler

    with override_settings(ROOT_URLCONF=__name__, MIDDLEWARE=[]):
        app = WSGIHandler() if kind == "wsgi" else ASGIHandler()
        with caplog.at_level(logging.ERROR, logger="django.request"):
            assert request_via(kind, app, f"/{style}/fail").status == 500
        record = next(r for r in caplog.records if r.exc_info)
        frames = ExceptionReporter(None, *record.exc_info).get_traceback_frames()
        variables = dict(next(f for f in frames if f["function"].endswith("_failing"))["vars"])
        assert variables["secret"] != repr("hunter2")
        assert "****" in variables["secret"]
        posted = request_via(kind, app, f"/{style}/post", method="POST")
        assert posted.body == b"('password',)"
