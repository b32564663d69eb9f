"""Settings of the project under test, all read from the environment at start-up.

What a server runs with is decided when it starts: the middleware stack
(BENCH_STACK), the database (DATABASE_URL, BENCH_DB_CONN, ...), switch
accounting (BENCH_SWITCH_ACCOUNTING) and the upstream's address
(BENCH_UPSTREAM_URL). DEBUG is always off: a benchmark of a DEBUG site
measures the debug machinery.
"""

import os
import secrets
from pathlib import Path

from project.database import database_settings
from project.stacks import DEFAULT_STACK, middleware_for

BASE_DIR = Path(__file__).resolve().parent

# Never committed: taken from the environment, or made fresh for this process.
# The harness passes one per run so that every worker of a server agrees.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50)
DEBUG = False

ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "::1"] + [
    host for host in os.environ.get("BENCH_ALLOWED_HOSTS", "").split(",") if host
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "project.workloads",
]

BENCH_STACK = os.environ.get("BENCH_STACK", DEFAULT_STACK)
MIDDLEWARE = middleware_for(BENCH_STACK)

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": []},
    }
]

DATABASES = {"default": database_settings(os.environ)}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

BENCH_UPSTREAM_URL = os.environ.get("BENCH_UPSTREAM_URL", "http://127.0.0.1:8765")
BENCH_SWITCH_ACCOUNTING = os.environ.get("BENCH_SWITCH_ACCOUNTING", "") == "1"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    # 4xx warnings per request would turn a fuzz run or a bad-input scenario
    # into a logging benchmark; errors still reach the server log.
    "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR"}},
}
