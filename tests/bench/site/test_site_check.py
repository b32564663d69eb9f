"""bench.site.in_site.check against copies of the usersite fixture, run as the harness will run it.

Each check is a subprocess with the copy as cwd and on PYTHONPATH, the way the harness
inspects a user's project without importing Django itself. The answers are known from
the fixture: a fresh startproject with DEBUG off and the admin enabled.
"""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers.usersite import clean_env, prepared_usersite

ROOT = Path(__file__).resolve().parents[3]
LOGIN = "/admin/login/"
UNKNOWN = "/no-such-page/"
DEFAULT_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]


def site_check(site: Path, settings: str = "usersite.settings", **argument: Any) -> dict[str, Any]:
    """The report of ``python -m bench.site.in_site.check`` on ``site``; stdout is JSON alone."""
    given = {"paths": [LOGIN, UNKNOWN], "wsgi": None, "asgi": None, "host": "127.0.0.1"}
    given["probe"] = False
    given.update(argument)
    env = {
        **clean_env(),
        "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]),
        "DJANGO_SETTINGS_MODULE": settings,
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.site.in_site.check", json.dumps(given)],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def edit_settings(site: Path, lines: str) -> None:
    """Override settings of the copy by appending to its settings.py."""
    settings = site / "usersite" / "settings.py"
    settings.write_text(settings.read_text() + "\n" + lines + "\n")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated copy for the checks that change nothing."""
    return prepared_usersite(tmp_path_factory.mktemp("migrated"))


def test_migrated_fixture_is_ready_to_serve(migrated: Path):
    report = site_check(migrated)
    assert report["settings_error"] is None
    assert report["settings_module"] == "usersite.settings"
    assert report["debug"] is False
    assert report["allowed_hosts"] == ["127.0.0.1", "localhost"]
    assert report["host_allowed"] is True
    assert report["wsgi"] == "usersite.wsgi:application"
    assert report["asgi"] == "usersite.asgi:application"
    assert report["entry_notes"] == []
    assert report["databases"] == {
        "default": {
            "engine": "django.db.backends.sqlite3",
            "name": str(migrated / "db.sqlite3"),
            "vendor": "sqlite",
            "exists": True,
            "conn_max_age": 0,  # Django's default: closed at the end of each request
            "error": None,
        }
    }
    assert report["unapplied_migrations"] == []
    assert report["migrations_error"] is None
    assert report["probe"] is None and report["probe_skipped"] is None


def test_default_middleware_is_all_async_capable(migrated: Path):
    # Every default middleware is a MiddlewareMixin, which declares both capabilities.
    middleware = site_check(migrated)["middleware"]
    assert [entry["path"] for entry in middleware] == DEFAULT_MIDDLEWARE
    for entry in middleware:
        assert entry["sync_capable"] is True, entry
        assert entry["async_capable"] is True, entry
        assert entry["sync_only"] is False, entry
        assert entry["error"] is None, entry
    hooks = {entry["path"].rpartition(".")[2]: entry["hooks"] for entry in middleware}
    assert hooks["CsrfViewMiddleware"] == ["process_request", "process_view", "process_response"]
    assert hooks["AuthenticationMiddleware"] == ["process_request"]
    assert hooks["XFrameOptionsMiddleware"] == ["process_response"]


def test_views_are_resolved_without_serving(migrated: Path):
    views = site_check(migrated)["views"]
    assert views[LOGIN] == {
        "view": "django.contrib.admin.sites.AdminSite.login",
        "async": False,
        "error": None,
    }
    assert views[UNKNOWN] == {"view": None, "async": None, "error": "no URL pattern matches"}


def test_entry_point_that_is_not_there_is_dropped_with_a_note(migrated: Path):
    report = site_check(migrated, asgi="usersite.nosuch:application")
    assert report["asgi"] is None
    assert report["wsgi"] == "usersite.wsgi:application"
    assert report["entry_notes"] == [
        "asgi 'usersite.nosuch:application' (from the argument): module 'usersite.nosuch' not found"
    ]


def test_probe_counts_thread_hops_and_leaves_the_database_alone(migrated: Path):
    database = migrated / "db.sqlite3"
    before = digest(database)
    report = site_check(migrated, probe=True, paths=[LOGIN, "/admin/"])
    assert digest(database) == before
    probe = report["probe"]
    assert probe["error"] is None
    assert probe["requests_per_path"] == 3
    login = probe["paths"][LOGIN]
    assert login["status"] == 200
    assert login["exception"] is None
    assert probe["paths"]["/admin/"]["status"] == 302
    hops = login["sync_to_async"]
    assert hops and all(count > 0 for count in hops.values())
    # Under ASGI MiddlewareMixin.__acall__ runs each sync hook through sync_to_async,
    # and BaseHandler adapts process_view and the sync view the same way.
    assert hops["django.contrib.sessions.middleware.SessionMiddleware.process_request"] == 1.0
    assert hops["django.middleware.csrf.CsrfViewMiddleware.process_view"] == 1.0
    assert hops["django.contrib.admin.sites.AdminSite.login"] == 1.0
    assert login["async_to_sync"] == {}


def test_probe_makes_writes_fail_instead_of_happening(tmp_path: Path):
    site = prepared_usersite(tmp_path)
    (site / "usersite" / "writer.py").write_text(
        "from django.http import HttpResponse\n\n\n"
        "def visit(request):\n"
        "    print('user code printing to stdout')\n"
        "    request.session['visited'] = True  # saved by SessionMiddleware: a write\n"
        "    return HttpResponse('ok')\n"
    )
    urls = site / "usersite" / "urls.py"
    urls.write_text(
        urls.read_text() + "\nfrom usersite.writer import visit  # noqa: E402\n"
        "urlpatterns.append(path('visit/', visit))\n"
    )
    database = site / "db.sqlite3"
    before = digest(database)
    report = site_check(site, probe=True, paths=["/visit/"])
    assert digest(database) == before
    visit = report["probe"]["paths"]["/visit/"]
    assert visit["status"] == 500
    assert "readonly" in visit["exception"]


def test_sync_only_middleware_moves_the_hops_out_of_the_chain(tmp_path: Path):
    site = prepared_usersite(tmp_path)
    (site / "usersite" / "syncmw.py").write_text(
        "def simple(get_response):\n"
        "    def middleware(request):\n"
        "        print('user code printing to stdout')\n"
        "        return get_response(request)\n\n"
        "    return middleware\n"
    )
    # Just above XFrameOptionsMiddleware: everything above it now runs sync in one thread.
    edit_settings(site, 'MIDDLEWARE = [*MIDDLEWARE[:-1], "usersite.syncmw.simple", MIDDLEWARE[-1]]')
    report = site_check(site, probe=True, paths=[LOGIN])
    simple = report["middleware"][-2]
    assert simple["path"] == "usersite.syncmw.simple"
    assert (simple["sync_only"], simple["hooks"]) == (True, [])
    login = report["probe"]["paths"][LOGIN]
    assert login["status"] == 200
    # Django's own wrapper, as load_middleware builds it: one hop into the sync part of
    # the chain, one back out to the async handler below it.
    inner = "django.core.handlers.exception.convert_exception_to_response.<locals>.inner"
    assert login["async_to_sync"] == {inner: 1.0}
    assert login["sync_to_async"][inner] == 1.0
    assert not any("SessionMiddleware" in name for name in login["sync_to_async"])


def test_empty_database_lists_every_migration_unapplied(tmp_path: Path):
    site = prepared_usersite(tmp_path, migrate=False)
    database = site / "db.sqlite3"
    database.touch()
    report = site_check(site, probe=True)
    assert report["databases"]["default"]["exists"] is True
    assert {"admin.0001_initial", "auth.0001_initial"} <= set(report["unapplied_migrations"])
    assert report["migrations_error"] is None
    assert report["probe"] is None
    assert report["probe_skipped"] == "unapplied migrations"
    assert database.read_bytes() == b""


def test_missing_database_file_is_not_created(tmp_path: Path):
    site = prepared_usersite(tmp_path, migrate=False)
    database = site / "db.sqlite3"
    report = site_check(site, probe=True)
    assert report["databases"]["default"]["exists"] is False
    assert report["unapplied_migrations"] is None
    assert report["migrations_error"] == f"SQLite database {database} does not exist"
    assert report["probe_skipped"] == "database 'default' does not exist"
    assert report["views"][LOGIN]["view"] == "django.contrib.admin.sites.AdminSite.login"
    assert not database.exists()


@pytest.mark.parametrize(
    ("settings", "source", "error"),
    [
        ("usersite.nosuch", None, "ModuleNotFoundError: No module named 'usersite.nosuch'"),
        ("usersite.broken", "raise RuntimeError('no\\nsettings')", "RuntimeError: no settings"),
    ],
)
def test_settings_that_do_not_import(tmp_path: Path, settings: str, source: str | None, error: str):
    site = prepared_usersite(tmp_path, migrate=False)
    if source:
        (site / "usersite" / "broken.py").write_text(source + "\n")
    report = site_check(site, settings=settings, probe=True)
    assert report == {"settings_error": error}


@pytest.mark.parametrize(
    ("lines", "debug", "allowed"),
    [
        ("DEBUG = True", True, True),
        # Django's own rule: DEBUG with no ALLOWED_HOSTS allows the localhost variants.
        ("DEBUG = True\nALLOWED_HOSTS = []", True, True),
        ("ALLOWED_HOSTS = []", False, False),
        ('ALLOWED_HOSTS = ["example.com"]', False, False),
    ],
)
def test_debug_and_allowed_hosts(tmp_path: Path, lines: str, debug: bool, allowed: bool):
    site = prepared_usersite(tmp_path, migrate=False)
    edit_settings(site, lines)
    report = site_check(site)
    assert report["settings_error"] is None
    assert report["debug"] is debug
    assert report["host_allowed"] is allowed
