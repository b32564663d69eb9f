"""``bench run --project``: a user's own Django project, measured end to end.

The project is tests/fixtures/usersite, made with ``django-admin startproject``
(admin enabled) and sharing nothing with project/. Each test measures a fresh
migrated copy through its admin login page under gunicorn-gthread and uvicorn.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.harness import ROOT, TINY
from tests.helpers.usersite import clean_env, prepared_usersite

pytestmark = pytest.mark.live

FIXTURES = ROOT / "tests" / "fixtures"
SERVERS = ["--server", "gunicorn-gthread", "uvicorn", "--no-calibrate"]


def bench(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=cwd,
        env={**clean_env(), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=240,
    )


def cells(run_dir: Path) -> dict[str, dict]:
    return {path.stem: json.loads(path.read_text()) for path in (run_dir / "cells").glob("*.json")}


def assert_every_request_counted(repeat: dict, names: set[str]) -> None:
    """The cell counts every name, and its count is locust's own total: the
    window's successes and failures plus those drained after it (locust's stats
    are reset when the window opens, and it waits for requests in flight)."""
    assert set(repeat["counted_names"]) == names
    totals = repeat["locust_totals"]
    assert set(totals["by_name"]) == names
    ours = repeat["requests"] + repeat["failures"] + repeat["drained_requests"]
    assert ours == pytest.approx(totals["requests"], rel=0.01)
    # every name is in the latency too: its count is the window's successes
    assert repeat["latency_ms"]["count"] == repeat["requests"]


def test_a_site_is_measured_over_its_paths_and_its_hops_match_the_probe(tmp_path):
    """Two independent counts of the same thing: the server's switch accounting
    under load, and the check's in-process probe of the same pages, must agree."""
    site = prepared_usersite(tmp_path)
    database = (site / "db.sqlite3").read_bytes()
    results = tmp_path / "results"
    done = bench(
        "run", "--project", str(site), "--path", "/admin/login/", "--path", "/admin/@0.5",
        *SERVERS, *TINY, "--results", str(results),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    run_dir = results / "latest"
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "complete"
    assert run["site"]["settings"] == "usersite.settings"
    assert run["matrix"]["application"]["name"] == "site:usersite.settings"
    measured = cells(run_dir)
    assert set(measured) == {
        "site.pages.gunicorn-gthread.own.own.u32",
        "site.pages.uvicorn.own.own.u32",
    }
    for cell in measured.values():
        (repeat,) = cell["repeats"]
        assert repeat["status"] == "ok", repeat.get("reason")
        assert repeat["throughput_rps"] > 0 and repeat["error_rate"] == 0
        assert repeat["server"]["cpu_ms_per_request"] > 0
        assert_every_request_counted(repeat, {"GET /admin/login/", "GET /admin/"})
    wsgi = measured["site.pages.gunicorn-gthread.own.own.u32"]["repeats"][0]["switches"]
    asgi = measured["site.pages.uvicorn.own.own.u32"]["repeats"][0]["switches"]
    assert wsgi["sync_to_async_per_request"] == 0 and wsgi["async_to_sync_per_request"] == 0
    probe = run["site"]["facts"]["probe"]["paths"]
    weights = {"/admin/login/": 1.0, "/admin/": 0.5}
    expected = sum(
        weights[path] * sum(found["sync_to_async"].values()) for path, found in probe.items()
    ) / sum(weights.values())
    measured_hops = asgi["sync_to_async_per_request"]
    assert expected > 10  # Django's default middleware: a hop per sync hook under ASGI
    assert measured_hops == pytest.approx(expected, rel=0.1)
    report = (run_dir / "report.md").read_text()
    assert "## Your site: usersite.settings" in report
    assert "served most" in report and "hops per request" in report
    assert "ASGI vs WSGI for your site" in report
    assert "your site:" in done.stdout
    # the load was GETs of pages that write nothing: the database is as it was
    assert (site / "db.sqlite3").read_bytes() == database


def test_a_site_runs_with_its_own_locustfile(tmp_path):
    site = prepared_usersite(tmp_path)
    results = tmp_path / "results"
    done = bench(
        "run", "--project", str(site), "--locustfile", str(FIXTURES / "usersite_locustfile.py"),
        *SERVERS, *TINY, "--results", str(results),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    measured = cells(results / "latest")
    assert set(measured) == {
        "usersite_locustfile.locustfile.gunicorn-gthread.own.own.u32",
        "usersite_locustfile.locustfile.uvicorn.own.own.u32",
    }
    for cell in measured.values():
        (repeat,) = cell["repeats"]
        assert repeat["status"] == "ok", repeat.get("reason")
        assert repeat["throughput_rps"] > 0
        assert_every_request_counted(repeat, {"GET /admin/login/", "GET /admin/"})


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("DEBUG = False", "DEBUG = True"), "DEBUG is True in usersite.settings"),
        (
            ('ALLOWED_HOSTS = ["127.0.0.1", "localhost"]', 'ALLOWED_HOSTS = ["example.com"]'),
            "add '127.0.0.1' to ALLOWED_HOSTS",
        ),
        (("from pathlib import Path", "import no_such_module"), "do not load from"),
    ],
    ids=["debug", "allowed-hosts", "settings-import"],
)
def test_an_unfit_site_is_refused_in_one_line(tmp_path, edit, expected):
    site = prepared_usersite(tmp_path)
    settings = site / "usersite" / "settings.py"
    text = settings.read_text()
    assert edit[0] in text
    settings.write_text(text.replace(edit[0], edit[1]))
    done = bench("run", "--project", str(site), "--results", str(tmp_path / "results"))
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: ") and expected in line
    assert not (tmp_path / "results").exists()


def test_debug_is_measured_when_allowed(tmp_path):
    site = prepared_usersite(tmp_path)
    settings = site / "usersite" / "settings.py"
    settings.write_text(settings.read_text().replace("DEBUG = False", "DEBUG = True"))
    done = bench("run", "--project", str(site), "--allow-debug", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "site.pages.uvicorn.own.own.u32" in done.stdout


def test_an_unmigrated_site_is_refused_and_its_database_left_alone(tmp_path):
    site = prepared_usersite(tmp_path, migrate=False)
    done = bench("run", "--project", str(site), "--settings", "usersite.settings")
    assert done.returncode == 2
    assert "does not exist" in done.stderr and "never creates or writes" in done.stderr
    assert not (site / "db.sqlite3").exists()
    (site / "db.sqlite3").touch()  # an empty database: every migration is unapplied
    done = bench("run", "--project", str(site))
    assert done.returncode == 2
    assert "unapplied migrations" in done.stderr and "manage.py migrate" in done.stderr
    assert (site / "db.sqlite3").stat().st_size == 0


def test_a_path_that_does_not_answer_is_refused_before_measuring(tmp_path):
    site = prepared_usersite(tmp_path)
    results = tmp_path / "results"
    done = bench(
        "run", "--project", str(site), "--path", "/admin/login/", "--path", "/no/such/page/",
        "--server", "uvicorn", "--results", str(results),
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "--path /no/such/page/" in line and "HTTP 404" in line
    assert not results.exists()


def test_site_flags_are_refused_with_bundled_ones():
    done = bench("run", "--project", ".", "--scenario", "json", "--dry-run")
    assert done.returncode == 2
    assert "cannot be used with --project" in done.stderr
    done = bench("run", "--path", "/", "--dry-run")
    assert done.returncode == 2
    assert "--path need --project" in done.stderr
