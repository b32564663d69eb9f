"""Django's async-capable view decorators, each applied to a sync and an async view.

Served as /sync/deco/<name> and /async/deco/<name>. Every decorator must keep
an async view a coroutine function (so Django runs it on the event loop with no
adapter) and must have the same effect on both styles; tests check both.
"""

from collections.abc import Callable
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control, cache_page, never_cache
from django.views.decorators.clickjacking import (
    xframe_options_deny,
    xframe_options_exempt,
    xframe_options_sameorigin,
)
from django.views.decorators.common import no_append_slash
from django.views.decorators.csrf import (
    csrf_exempt,
    csrf_protect,
    ensure_csrf_cookie,
    requires_csrf_token,
)
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import (
    condition,
    etag,
    last_modified,
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)
from django.views.decorators.vary import vary_on_cookie, vary_on_headers

from project.workloads import responses

ETAG = '"bench-v1"'
LAST_MODIFIED = datetime(2026, 1, 1, tzinfo=UTC)

# Long enough (> 200 bytes) for gzip_page to compress it.
PAYLOAD = {"message": responses.HELLO, "lines": [responses.HELLO] * 20}


def _etag(request: HttpRequest) -> str:
    return ETAG


def _last_modified(request: HttpRequest) -> datetime:
    return LAST_MODIFIED


DECORATORS: dict[str, Callable] = {
    "cache_control": cache_control(max_age=60),
    "never_cache": never_cache,
    "cache_page": cache_page(60),
    "csrf_exempt": csrf_exempt,
    "csrf_protect": csrf_protect,
    "requires_csrf_token": requires_csrf_token,
    "ensure_csrf_cookie": ensure_csrf_cookie,
    "condition": condition(etag_func=_etag),
    "etag": etag(_etag),
    "last_modified": last_modified(_last_modified),
    "gzip_page": gzip_page,
    "require_http_methods": require_http_methods(["GET", "HEAD"]),
    "require_GET": require_GET,
    "require_POST": require_POST,
    "require_safe": require_safe,
    "vary_on_cookie": vary_on_cookie,
    "vary_on_headers": vary_on_headers("X-Bench-Vary"),
    "sensitive_variables": sensitive_variables("secret"),
    "sensitive_post_parameters": sensitive_post_parameters("password"),
    "xframe_options_deny": xframe_options_deny,
    "xframe_options_sameorigin": xframe_options_sameorigin,
    "xframe_options_exempt": xframe_options_exempt,
    "no_append_slash": no_append_slash,
}


def _sync_view(request: HttpRequest) -> HttpResponse:
    secret = "not-for-error-reports"  # noqa: F841 - named by sensitive_variables
    return responses.json_response(PAYLOAD)


async def _async_view(request: HttpRequest) -> HttpResponse:
    secret = "not-for-error-reports"  # noqa: F841
    return responses.json_response(PAYLOAD)


def _build(base: Callable) -> dict[str, Callable]:
    return {name: decorator(base) for name, decorator in DECORATORS.items()}


SYNC_VIEWS = _build(_sync_view)
ASYNC_VIEWS = _build(_async_view)
