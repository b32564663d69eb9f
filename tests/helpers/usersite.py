"""A fresh copy of the usersite fixture: a Django project of a user's own.

Each test gets a copy in its tmp_path so that migrating, editing settings or
deleting the database never touches the committed fixture.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "usersite"


def clean_env() -> dict[str, str]:
    """The test session's environment without what points Django at project/.

    tests/conftest.py sets DJANGO_SETTINGS_MODULE and BENCH_* for the bundled
    project; a user's project run with those would read the wrong settings.
    """
    return {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH") and not key.startswith("BENCH_")
    }


def prepared_usersite(tmp_path: Path, migrate: bool = True) -> Path:
    """Copy the fixture to tmp_path/"usersite", migrate it unless told not to; its path."""
    copy = tmp_path / "usersite"
    shutil.copytree(FIXTURE, copy, ignore=shutil.ignore_patterns("__pycache__", "db.sqlite3"))
    if migrate:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=copy,
            env=clean_env(),
            check=True,
            capture_output=True,
            timeout=60,
        )
    return copy
