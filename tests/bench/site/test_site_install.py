"""``pip install`` this project where a team's site lives, then ``djbench``.

The harness is built and installed as a user would install it, into a
directory of its own, and run from the user's project directory: nothing
from this checkout is on the path (the installed copy comes first), so the
console command must find its locustfile, wrapper application, templates
and results directory inside the installed package or the working directory.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.harness import ROOT
from tests.helpers.usersite import clean_env, prepared_usersite

pytestmark = pytest.mark.live

# What a source distribution of this project holds; tests, results and the
# virtualenv stay behind.
_NOT_SHIPPED = shutil.ignore_patterns(
    ".git", ".venv", "results", "tests", "docs", ".data", "__pycache__", "*.egg-info", "build"
)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """This project installed with pip into a fresh target directory."""
    base = tmp_path_factory.mktemp("install")
    source, target = base / "source", base / "target"
    shutil.copytree(ROOT, source, ignore=_NOT_SHIPPED)
    subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--no-build-isolation", "--target", str(target), str(source),
        ],
        check=True, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    return target


def test_djbench_measures_a_site_from_its_own_directory(installed, tmp_path):
    site = prepared_usersite(tmp_path)
    env = {**clean_env(), "PYTHONPATH": str(installed)}
    where = subprocess.run(
        [sys.executable, "-c", "import bench; print(bench.__file__)"],
        cwd=site, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert Path(where.stdout.strip()).is_relative_to(installed)
    done = subprocess.run(
        [
            str(installed / "bin" / "djbench"), "run", "--project", ".", "--path", "/admin/login/",
            "--server", "uvicorn", "--no-calibrate",
            "--duration", "1", "--warmup", "0.5", "--repeats", "1",
        ],
        cwd=site, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    run_dir = site / "results" / "latest"
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "complete"
    assert run["site"]["settings"] == "usersite.settings"  # read from its manage.py
    (cell,) = [json.loads(path.read_text()) for path in (run_dir / "cells").glob("*.json")]
    assert cell["repeats"][0]["status"] == "ok"
    assert (run_dir / "report.html").is_file()
