"""decorators: what Django's async-capable view decorators cost per request, sync and async.

Django's documentation (topics/async, "Decorators", new in 5.0) lists the view
decorators that "can be used with both synchronous and asynchronous view
functions": cache_control, never_cache, no_append_slash, the four csrf ones,
sensitive_variables, sensitive_post_parameters, gzip_page, condition, etag,
last_modified, the require_* family, vary_on_cookie, vary_on_headers and the
three xframe_options ones. It does not say what wrapping an async view costs.
Read in Django 6.1.3's source, each decorator checks iscoroutinefunction and
defines an ``async def`` wrapper, and the middleware-built ones (gzip_page,
csrf_protect, cache_page) call the middleware's sync hooks directly on the
event loop: no sync_to_async. So the expectation is no extra switch and only
the decorator's own work (compressing, hashing an ETag, patching headers).
This scenario measures it: every decorator of project/workloads/decorated.py
on the same small JSON view (21 lines, long enough for gzip_page), against
the undecorated json view as the baseline, with the ``none`` stack so no
middleware hides a few microseconds. Switch accounting records hops per
request in every cell: a decorated view's must equal the baseline's. Read CPU
ms per request against the baseline's; the baseline's body is shorter (27
bytes against 357), so csrf_exempt, a wrapper with no work, is the
same-body control in ``--full``.

locust sends ``Accept-Encoding: gzip, deflate, br`` like a browser, so
gzip_page really compresses. cache_page answers from the local-memory cache
after the first request: it measures a cache hit, not the view. require_POST
is left out: a GET is its 405, and the primer that checks each cell before
measuring accepts only a 200.

By default: the baseline, gzip_page (the most work) and csrf_protect (a
middleware turned into a decorator: as middleware under ASGI its hooks are
hops, as a decorator they should not be), on the async view under uvicorn.
``--full``: all 22 decorators and the baseline, sync and async views, under
gunicorn-gthread and uvicorn (92 cells, about two hours).
"""

from _support import BenchUser


class BaselineUser(BenchUser):
    endpoint = "json"


class CacheControlUser(BenchUser):
    endpoint = "deco/cache_control"


class NeverCacheUser(BenchUser):
    endpoint = "deco/never_cache"


class CachePageUser(BenchUser):
    endpoint = "deco/cache_page"


class CsrfExemptUser(BenchUser):
    endpoint = "deco/csrf_exempt"


class CsrfProtectUser(BenchUser):
    endpoint = "deco/csrf_protect"


class RequiresCsrfTokenUser(BenchUser):
    endpoint = "deco/requires_csrf_token"


class EnsureCsrfCookieUser(BenchUser):
    endpoint = "deco/ensure_csrf_cookie"


class ConditionUser(BenchUser):
    endpoint = "deco/condition"


class EtagUser(BenchUser):
    endpoint = "deco/etag"


class LastModifiedUser(BenchUser):
    endpoint = "deco/last_modified"


class GzipPageUser(BenchUser):
    endpoint = "deco/gzip_page"


class RequireHttpMethodsUser(BenchUser):
    endpoint = "deco/require_http_methods"


class RequireGetUser(BenchUser):
    endpoint = "deco/require_GET"


class RequireSafeUser(BenchUser):
    endpoint = "deco/require_safe"


class VaryOnCookieUser(BenchUser):
    endpoint = "deco/vary_on_cookie"


class VaryOnHeadersUser(BenchUser):
    endpoint = "deco/vary_on_headers"


class SensitiveVariablesUser(BenchUser):
    endpoint = "deco/sensitive_variables"


class SensitivePostParametersUser(BenchUser):
    endpoint = "deco/sensitive_post_parameters"


class XframeOptionsDenyUser(BenchUser):
    endpoint = "deco/xframe_options_deny"


class XframeOptionsSameoriginUser(BenchUser):
    endpoint = "deco/xframe_options_sameorigin"


class XframeOptionsExemptUser(BenchUser):
    endpoint = "deco/xframe_options_exempt"


class NoAppendSlashUser(BenchUser):
    endpoint = "deco/no_append_slash"


BENCH = {
    "name": "decorators",
    "baseline": "baseline",  # the verdicts compare every other endpoint with it
    "groups": ["docs"],  # the async documentation's claims about views
    # Endpoint names are the decorators' names in project/workloads/decorated.py.
    "endpoints": {
        "baseline": "BaselineUser",
        "cache_control": "CacheControlUser",
        "never_cache": "NeverCacheUser",
        "cache_page": "CachePageUser",
        "csrf_exempt": "CsrfExemptUser",
        "csrf_protect": "CsrfProtectUser",
        "requires_csrf_token": "RequiresCsrfTokenUser",
        "ensure_csrf_cookie": "EnsureCsrfCookieUser",
        "condition": "ConditionUser",
        "etag": "EtagUser",
        "last_modified": "LastModifiedUser",
        "gzip_page": "GzipPageUser",
        "require_http_methods": "RequireHttpMethodsUser",
        "require_GET": "RequireGetUser",
        "require_safe": "RequireSafeUser",
        "vary_on_cookie": "VaryOnCookieUser",
        "vary_on_headers": "VaryOnHeadersUser",
        "sensitive_variables": "SensitiveVariablesUser",
        "sensitive_post_parameters": "SensitivePostParametersUser",
        "xframe_options_deny": "XframeOptionsDenyUser",
        "xframe_options_sameorigin": "XframeOptionsSameoriginUser",
        "xframe_options_exempt": "XframeOptionsExemptUser",
        "no_append_slash": "NoAppendSlashUser",
    },
    "styles": ["sync", "async"],
    "stacks": ["none"],
    "servers": ["gunicorn-gthread", "uvicorn"],
    "users": [32],
    "default": {
        "endpoints": ["baseline", "gzip_page", "csrf_protect"],
        "servers": ["uvicorn"],
        "styles": ["async"],
    },
}
