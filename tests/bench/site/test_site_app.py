"""bench.site.in_server.app: the wrapper a server loads to serve a user's project.

Each case runs in a fresh interpreter laid out as a server for ``--project``
is (the user's directory first on the path, then the harness), because the
wrapper moves modules around in ``sys.modules`` and builds its applications
once per process. The user's package is called ``project``, as
``django-admin startproject project .`` names it, the very name of this
repository's own Django project.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bench import ROOT

USER_WSGI = """
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"theirs " + environ["PATH_INFO"].encode()]
"""
USER_ASGI = "raise RuntimeError('the ASGI module was imported')\n"

# Loads the wrapper's WSGI application and reports what the process then holds.
DRIVER = textwrap.dedent(
    """
    import json, sys
    from bench.site.in_server import app

    def call(application, path, remote="127.0.0.1"):
        seen = {}
        def start_response(status, headers, exc_info=None):
            seen["status"] = status
        environ = {"PATH_INFO": path, "REMOTE_ADDR": remote, "REQUEST_METHOD": "GET"}
        body = b"".join(application(environ, start_response))
        return [seen["status"], body.decode()]

    wrapped = app.wsgi_application
    report = {
        "same_twice": app.wsgi_application is wrapped,
        "is_theirs": wrapped is sys.modules["project.wsgi"].application,
        "project_file": sys.modules["project"].__file__,
        "asgi_imported": "project.asgi" in sys.modules,
        "private": sorted(name for name in sys.modules if name.startswith("_djbench_")),
        "accounting_file": getattr(sys.modules.get("_djbench_accounting"), "__file__", None),
        "page": call(wrapped, "/hello"),
        "totals": call(wrapped, "/__bench__/switches"),
        "remote_totals": call(wrapped, "/__bench__/switches", remote="10.0.0.7"),
    }
    print(json.dumps(report))
    """
)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A user's directory whose package is ``project``, with a WSGI and an ASGI module."""
    package = tmp_path / "site" / "project"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "wsgi.py").write_text(USER_WSGI)
    (package / "asgi.py").write_text(USER_ASGI)
    return tmp_path / "site"


def serve(site: Path, code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BENCH_", "DJANGO_", "PYTEST"))
    }
    environment.update(PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]), **env)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=site,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def report(site: Path, **env: str) -> dict:
    result = serve(site, DRIVER, BENCH_SITE_WSGI="project.wsgi:application", **env)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def test_without_accounting_the_server_gets_their_application_itself(site):
    found = report(site)
    assert found["is_theirs"] and found["same_twice"]
    assert found["project_file"] == str(site / "project" / "__init__.py")
    # a WSGI server never imports their ASGI module (which here would fail)
    assert found["asgi_imported"] is False
    assert found["private"] == []
    assert found["page"] == ["200 OK", "theirs /hello"]
    assert found["totals"] == ["200 OK", "theirs /__bench__/switches"]  # theirs to answer


def test_with_accounting_their_project_keeps_its_name_and_requests_are_counted(site, tmp_path):
    found = report(site, BENCH_SWITCH_ACCOUNTING="1", BENCH_ACCOUNTING_DIR=str(tmp_path / "sw"))
    assert not found["is_theirs"] and found["same_twice"]  # wrapped, once
    # their ``project`` is still theirs; the harness's accounting sits under a private name
    assert found["project_file"] == str(site / "project" / "__init__.py")
    assert found["accounting_file"] == str(ROOT / "project" / "accounting.py")
    assert "_djbench_accounting" in found["private"]
    assert found["asgi_imported"] is False
    assert found["page"] == ["200 OK", "theirs /hello"]
    status, body = found["totals"]
    assert status == "200 OK"
    assert json.loads(body)["totals"]["requests"] == 1  # /hello; the totals are not counted
    assert found["remote_totals"][0] == "403 Forbidden"
    assert list((tmp_path / "sw").glob("*.counters"))


def test_an_entry_without_attribute_means_application(site):
    code = "from bench.site.in_server import app; print(app.wsgi_application.__module__)"
    result = serve(site, code, BENCH_SITE_WSGI="project.wsgi")
    assert (result.returncode, result.stdout.strip()) == (0, "project.wsgi")


def test_an_unnamed_application_is_one_clear_error(site):
    code = "from bench.site.in_server import app; app.asgi_application"
    result = serve(site, code, BENCH_SITE_WSGI="project.wsgi")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "RuntimeError: BENCH_SITE_ASGI is not set: the harness names the user's application"
    )


def test_only_the_two_applications_are_served(site):
    code = "from bench.site.in_server import app; print(hasattr(app, 'application'))"
    result = serve(site, code, BENCH_SITE_WSGI="project.wsgi")
    assert (result.returncode, result.stdout.strip()) == (0, "False")


def test_a_failed_request_leaves_its_exception_for_the_harness(site, tmp_path):
    code = textwrap.dedent(
        """
        import django
        from django.conf import settings
        settings.configure()
        from django.core.signals import got_request_exception
        from bench.site.in_server import app
        app.wsgi_application

        class Request:
            path = "/orders/7"

        try:
            raise KeyError("order 7")
        except KeyError:
            got_request_exception.send(sender=None, request=Request())
        """
    )
    result = serve(
        site, code, BENCH_SITE_WSGI="project.wsgi", BENCH_EXCEPTIONS_DIR=str(tmp_path / "exc")
    )
    assert result.returncode == 0, result.stderr
    (written,) = (tmp_path / "exc").glob("*.json")
    assert json.loads(written.read_text()) == {"/orders/7": "KeyError: 'order 7'"}
