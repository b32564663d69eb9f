"""Database settings from the environment, chosen when a server starts.

SQLite (a file, created by ``python -m project setupdb``) is the default.
``DATABASE_URL=postgres://user@host:port/name`` selects PostgreSQL, and then
``BENCH_DB_CONN`` chooses how connections are handled:

- ``none``: a new connection per request (CONN_MAX_AGE=0), Django's default;
- ``persistent``: kept open per thread for BENCH_DB_CONN_MAX_AGE seconds
  (default 600); refused under ASGI by ``project.asgi``;
- ``pool``: Django's psycopg pool, BENCH_DB_POOL_SIZE connections (default 4)
  per process. Django itself refuses it with CONN_MAX_AGE != 0.
"""

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

CONN_MODES = ("none", "persistent", "pool")
DEFAULT_SQLITE_PATH = Path(__file__).resolve().parent.parent / ".data" / "bench.sqlite3"
DEFAULT_APPLICATION_NAME = "django-bench"


class DatabaseConfigError(ValueError):
    """A database setting in the environment that cannot be used."""


def _int_env(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise DatabaseConfigError(f"{name} must be an integer, got {raw!r}") from None


def sqlite_settings(env: Mapping[str, str]) -> dict:
    """SQLite in WAL mode with immediate transactions, so concurrent writers wait
    instead of failing with 'database is locked'."""
    path = env.get("BENCH_SQLITE_PATH") or str(DEFAULT_SQLITE_PATH)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "CONN_MAX_AGE": 0,
        "OPTIONS": {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


def postgres_settings(url: str, env: Mapping[str, str]) -> dict:
    """PostgreSQL settings for one of the connection modes in CONN_MODES."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise DatabaseConfigError(
            f"DATABASE_URL must start with postgres:// or postgresql://, got {parts.scheme!r}"
        )
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise DatabaseConfigError("DATABASE_URL names no database (postgres://host:port/NAME)")
    mode = env.get("BENCH_DB_CONN", "none")
    if mode not in CONN_MODES:
        raise DatabaseConfigError(
            f"unknown BENCH_DB_CONN {mode!r}; valid modes: {', '.join(CONN_MODES)}"
        )
    options: dict = {
        # Lets the harness count this server's connections in pg_stat_activity.
        "application_name": env.get("BENCH_DB_APPLICATION_NAME", DEFAULT_APPLICATION_NAME),
    }
    conn_max_age = 0
    if mode == "persistent":
        conn_max_age = _int_env(env, "BENCH_DB_CONN_MAX_AGE", 600)
    elif mode == "pool":
        size = _int_env(env, "BENCH_DB_POOL_SIZE", 4)
        if size < 1:
            raise DatabaseConfigError(f"BENCH_DB_POOL_SIZE must be >= 1, got {size}")
        options["pool"] = {"min_size": size, "max_size": size, "timeout": 30}
        # Passed through so that Django's own refusal is what the user sees.
        conn_max_age = _int_env(env, "BENCH_DB_CONN_MAX_AGE", 0)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": conn_max_age,
        "OPTIONS": options,
    }


def database_settings(env: Mapping[str, str]) -> dict:
    """The DATABASES['default'] entry that the environment selects."""
    url = env.get("DATABASE_URL", "")
    if not url:
        return sqlite_settings(env)
    return postgres_settings(url, env)
