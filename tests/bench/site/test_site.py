"""bench.site.project: a user's project from the command line, and the refusals."""

from pathlib import Path

import pytest

from bench.errors import UsageError
from bench.plan import scenarios
from bench.results.records.site import SiteFacts
from bench.site import project as site

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
GOOD = {
    "settings_error": None,
    "debug": False,
    "allowed_hosts": ["127.0.0.1"],
    "host_allowed": True,
    "databases": {"default": {"name": "db.sqlite3", "vendor": "sqlite", "exists": True}},
    "unapplied_migrations": [],
    "migrations_error": None,
    "wsgi": "mysite.wsgi:application",
    "asgi": "mysite.asgi:application",
}
SITE = site.Site(directory=Path("/srv/mysite"), settings="mysite.settings")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/", ("/", 1.0)),
        ("/shop/@3", ("/shop/", 3.0)),
        ("/cart@0.5", ("/cart", 0.5)),
        ("/search?q=a@b", ("/search?q=a@b", 1.0)),
        ("/users/@me", ("/users/@me", 1.0)),
    ],
)
def test_a_path_may_carry_a_weight(text, expected):
    assert site.parse_path(text) == expected


@pytest.mark.parametrize("text", ["shop/", "/shop@0"])
def test_a_bad_path_is_a_usage_error(text):
    with pytest.raises(UsageError):
        site.parse_path(text)


def test_the_settings_come_from_manage_py(tmp_path):
    assert site.settings_from_manage_py(FIXTURES / "usersite") == "usersite.settings"
    with pytest.raises(UsageError, match="--settings is needed"):
        site.settings_from_manage_py(tmp_path)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"settings_error": "ModuleNotFoundError: No module named 'x'"}, "do not load"),
        ({"debug": True}, "--allow-debug"),
        ({"host_allowed": False}, "add '127.0.0.1' to ALLOWED_HOSTS"),
        (
            {"databases": {"default": {"name": "db.sqlite3", "vendor": "sqlite", "exists": False}}},
            "does not exist",
        ),
        ({"unapplied_migrations": ["a.1", "b.1", "c.1", "d.1"]}, "4 unapplied migrations (a.1"),
        ({"unapplied_migrations": None, "migrations_error": "connection refused"}, "refused"),
        ({"wsgi": None, "asgi": None}, "--wsgi module:application"),
    ],
)
def test_an_unfit_site_is_refused(change, expected):
    with pytest.raises(site.SiteError) as caught:
        site.refuse(SITE, SiteFacts.from_json({**GOOD, **change}))
    assert expected in str(caught.value)
    assert caught.value.exit_code == 2


def test_a_fit_site_passes_and_debug_may_be_allowed():
    site.refuse(SITE, SiteFacts.from_json(GOOD))
    allowed = site.Site(directory=SITE.directory, settings=SITE.settings, allow_debug=True)
    site.refuse(allowed, SiteFacts.from_json({**GOOD, "debug": True}))


def test_a_site_without_a_database_is_not_refused_for_its_migrations():
    dummy = {"default": {"name": "", "vendor": "dummy", "exists": None}}
    unread = {"unapplied_migrations": None, "migrations_error": "DATABASES is improperly set"}
    site.refuse(SITE, SiteFacts.from_json({**GOOD, "databases": dummy, **unread}))


def test_the_application_serves_only_the_interfaces_the_site_has():
    app = site.application(SITE, SiteFacts.from_json({**GOOD, "asgi": None}))
    assert app.entry("wsgi") == site.SITE_WSGI and app.entry("asgi") is None
    env = dict(app.env)
    assert env["BENCH_SITE_WSGI"] == "mysite.wsgi:application"
    assert env["DJANGO_SETTINGS_MODULE"] == "mysite.settings"
    assert env["PYTHONPATH"].startswith("/srv/mysite")
    assert app.answers(302) and not app.answers(404)
    assert app.ready(404)  # their / may be a 404: the server is up all the same


def test_the_generated_scenario_and_a_locustfile_scenario():
    pages = site.Site(SITE.directory, SITE.settings, paths=(("/a/", 1.0), ("/b/", 2.0)))
    generated = site.scenario(pages)
    assert not generated.styled and generated.styles == (scenarios.OWN,)
    assert generated.primer_path("pages", scenarios.OWN) == "/a/"
    other = site.scenario(site.Site(SITE.directory, SITE.settings, paths=(("/a/", 1.0),)))
    assert other.sha256 != generated.sha256  # the pages are part of the definition
    own = site.Site(SITE.directory, SITE.settings, paths=(),
                    locustfile=FIXTURES / "usersite_locustfile.py")  # fmt: skip
    mine = site.scenario(own)
    assert mine.name == "usersite_locustfile" and mine.endpoints == {"locustfile": ""}
    assert mine.primer_path("locustfile", scenarios.OWN) is None


def _facts(**databases: dict) -> SiteFacts:
    return SiteFacts.from_json({"databases": databases})


def test_persistent_connections_under_asgi_are_warned_with_djangos_rule():
    pg = {"vendor": "postgresql", "name": "shop", "conn_max_age": None}
    facts = _facts(default=pg, replica={**pg, "name": "r", "conn_max_age": 0})
    (warning,) = site.connection_warnings(facts, ["uvicorn"])
    assert warning.startswith("database 'default' (shop) has CONN_MAX_AGE=None and uvicorn")
    assert f'"{site.ASGI_CONNECTIONS_RULE}"' in warning
    assert "Set CONN_MAX_AGE = 0 in DATABASES['default']" in warning
    assert site.connection_warnings(facts, []) == []  # WSGI only: one thread, one connection
    sqlite = _facts(default={"vendor": "sqlite", "name": "db", "conn_max_age": 60})
    assert "CONN_MAX_AGE=60" in site.connection_warnings(sqlite, ["uvicorn"])[0]
    assert site.connection_warnings(_facts(default={**pg, "conn_max_age": 0}), ["uvicorn"]) == []
    assert site.connection_warnings(_facts(default={"vendor": "dummy"}), ["uvicorn"]) == []
