"""bench.site.verdict: the plain-language verdict of a site run."""

from bench.results.records.site import SiteFacts
from bench.site import verdict as site_verdict

MIDDLEWARE = [
    {"path": "django.middleware.csrf.CsrfViewMiddleware", "sync_only": False},
    {"path": "shop.middleware.Audit", "sync_only": False},
]


def probe(**paths: dict) -> dict:
    return {"probe": {"paths": paths}, "middleware": MIDDLEWARE}


def test_hop_sources_are_weighted_by_the_share_of_each_page():
    facts = probe(
        a={"sync_to_async": {"shop.middleware.Audit.process_request": 1.0}, "async_to_sync": {}},
        b={"sync_to_async": {"shop.views.cart": 1.0}, "async_to_sync": {"shop.x": 2.0}},
    )
    sources = dict(site_verdict.hop_sources(SiteFacts.from_json(facts), {"a": 3.0, "b": 1.0}))
    assert sources == {"shop.middleware.Audit": 0.75, "shop.views.cart": 0.25, "shop.x": 0.5}


def test_a_sync_only_middleware_is_the_change_to_make():
    facts = {"middleware": [*MIDDLEWARE, {"path": "shop.middleware.Old", "sync_only": True}]}
    assert "make shop.middleware.Old async-capable" in site_verdict.one_change(
        SiteFacts.from_json(facts), {}
    )


def test_the_biggest_source_of_hops_is_named():
    own = probe(a={"sync_to_async": {"shop.middleware.Audit.process_request": 2.0,
                                     "shop.middleware.Audit.process_response": 1.0,
                                     "shop.views.page": 1.0}})  # fmt: skip
    assert site_verdict.one_change(SiteFacts.from_json(own), {"a": 1.0}).startswith(
        "give shop.middleware.Audit an async path"
    )
    django = probe(a={"sync_to_async": {
        "django.middleware.csrf.CsrfViewMiddleware.process_request": 1.0,
        "django.middleware.csrf.CsrfViewMiddleware.process_view": 1.0,
        "shop.middleware.Audit.process_request": 1.0,
    }})  # fmt: skip
    text = site_verdict.one_change(SiteFacts.from_json(django), {"a": 1.0})
    assert "Django's own django.middleware.csrf.CsrfViewMiddleware makes the most (2.0" in text
    assert "(3.0 hops per request from your MIDDLEWARE in all)" in text
    view = probe(a={"sync_to_async": {"shop.views.page": 1.0}})
    assert site_verdict.one_change(SiteFacts.from_json(view), {"a": 1.0}).startswith(
        "shop.views.page is sync"
    )
    assert (
        site_verdict.one_change(SiteFacts.from_json(probe(a={"sync_to_async": {}})), {"a": 1.0})
        is None
    )


def cell(server: str, throughput: float, cpu: float, p99: float, hops: float) -> dict:
    summary = {"throughput_rps": throughput, "cpu_ms_per_request": cpu, "p99_ms": p99}
    latency = {"count": 2000, "p99": p99}
    return {
        "cell": {
            "id": f"site.pages.{server}.own.own.u32",
            "scenario": "site",
            "endpoint": "pages",
            "server": server,
            "style": "own",
            "stack": "own",
            "users": 32,
        },
        "status": "ok",
        "summary": {name: {"median": value} for name, value in summary.items()},
        "repeats": [
            {
                "status": "ok",
                "latency_ms": latency,
                "switches": {
                    "sync_to_async_per_request": hops - 1,
                    "async_to_sync_per_request": 1.0,
                },
            }
        ],
    }


def test_the_verdict_names_the_configuration_that_served_most():
    run = {"site": {"paths": [["/", 1.0]], "facts": {"middleware": []}}}
    cells = [cell("gunicorn-gthread", 250, 3.9, 140, 1), cell("uvicorn", 140, 7.1, 220, 17)]
    found = site_verdict.verdict(run, cells, {"gunicorn-gthread": "wsgi", "uvicorn": "asgi"})
    assert found.best == "site.pages.gunicorn-gthread.own.own.u32"
    assert found.lines[0] == (
        "gunicorn-gthread (WSGI) served most: 250 requests/s at 3.90 ms of server CPU per "
        "request, p99 140.0 ms, with 32 users."
    )
    assert "17.0 under uvicorn (ASGI)" in found.lines[1]
    assert site_verdict.verdict({}, cells, {}) is None  # the bundled project: no site verdict


def test_the_verdict_gives_no_p99_that_too_few_requests_back():
    slow = cell("gunicorn-gthread", 100, 9.0, 300, 0)
    slow["summary"]["p90_ms"] = {"median": 120.0}
    slow["repeats"][0]["latency_ms"] = {"count": 500, "p99": 300, "p90": 120.0}
    found = site_verdict.verdict({"site": {"paths": [], "facts": {}}}, [slow], {})
    assert "p99" not in found.lines[0].split("(too few")[0]
    assert "p90 120.0 ms (too few requests a repeat for p99" in found.lines[0]


REQUEST_STARTED = (
    "django.core.signals.request_started receivers django.db.reset_queries, "
    "django.db.close_old_connections"
)


def test_a_signal_hop_of_djangos_own_receivers_is_never_the_change_to_make():
    facts = probe(a={"sync_to_async": {REQUEST_STARTED: 1.0, "shop.views.page": 1.0}})
    facts["probe"]["signals"] = {
        REQUEST_STARTED: {
            "signal": "django.core.signals.request_started",
            "receivers": ["django.db.reset_queries", "django.db.close_old_connections"],
        }
    }
    assert site_verdict.one_change(SiteFacts.from_json(facts), {"a": 1.0}).startswith(
        "shop.views.page is sync"
    )
    labels = dict(site_verdict.hop_labels(SiteFacts.from_json(facts), {"a": 1.0}))
    assert labels == {
        "django.core.signals.request_started (sent with asend), its sync receivers "
        "django.db.reset_queries (Django), django.db.close_old_connections (Django)": 1.0,
        "shop.views.page (yours)": 1.0,
    }
    # Django's own code that is not middleware is not a change either
    response = probe(a={"sync_to_async": {"django.http.response.HttpResponse.close": 2.0}})
    assert site_verdict.one_change(SiteFacts.from_json(response), {"a": 1.0}) is None


def test_a_signal_whose_sync_receivers_are_all_yours_is_named():
    name = "shop.signals.order_paid receivers shop.receivers.mail"
    facts = probe(a={"sync_to_async": {name: 2.0}})
    facts["probe"]["signals"] = {
        name: {"signal": "shop.signals.order_paid", "receivers": ["shop.receivers.mail"]}
    }
    text = site_verdict.one_change(SiteFacts.from_json(facts), {"a": 1.0})
    assert text.startswith("your sync receiver shop.receivers.mail of shop.signals.order_paid")
    assert "(2.0 hops per request)" in text


def failing_cell(server: str, rates: list[float], peak: int) -> dict:
    failing = cell(server, 80, 7.0, 400, 16)
    failing["repeats"] = [
        {
            "status": "ok",
            "error_rate": rate,
            "errors": {"GET / | HTTP 500": 10},
            "latency_ms": {"count": 2000, "p99": 400},
            "db": {"connections_peak": peak, "connections_mean": peak / 2},
            "server_exceptions": {"/": "django.db.utils.OperationalError: too many connections"},
        }
        for rate in rates
    ]
    return failing


def test_a_failing_configuration_gets_its_cause_instead_of_a_rank():
    run = {
        "site": {
            "paths": [["/", 1.0]],
            "counted_databases": ["default (postgresql shop)"],
            "facts": {
                "middleware": [],
                "databases": {
                    "default": {"vendor": "postgresql", "name": "shop", "conn_max_age": None}
                },
            },
        }
    }
    wsgi = cell("gunicorn-gthread", 250, 3.9, 140, 0)
    wsgi["repeats"][0]["db"] = {"connections_peak": 4, "connections_mean": 4.0}
    asgi = failing_cell("uvicorn", [0.2, 0.25], 8)
    found = site_verdict.verdict(run, [wsgi, asgi], {"gunicorn-gthread": "wsgi", "uvicorn": "asgi"})
    assert found.best == "site.pages.gunicorn-gthread.own.own.u32"
    assert found.failed == ["site.pages.uvicorn.own.own.u32"]
    (failed,) = [line for line in found.lines if line.startswith("uvicorn")]
    assert failed.startswith(
        "uvicorn (ASGI) failed 20.0%-25.0% of its requests (2 of 2 repeats over 1%); the server "
        "raised django.db.utils.OperationalError: too many connections at /: it is not ranked"
    )
    assert "DATABASES['default'] has CONN_MAX_AGE=None" in failed
    assert "(8 connections were open on your database at the peak of the window)" in failed
    assert "Set CONN_MAX_AGE = 0 for ASGI" in failed
    assert (
        "Connections open on default (postgresql shop) at the peak of the window: "
        "4 under gunicorn-gthread; 8 under uvicorn."
    ) in found.lines
    # at 1% or under the configuration is ranked as before
    fine = failing_cell("uvicorn", [0.01], 8)
    found = site_verdict.verdict(run, [wsgi, fine], {"gunicorn-gthread": "wsgi", "uvicorn": "asgi"})
    assert found.failed == []
