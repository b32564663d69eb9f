"""The harness's side of the database: check it, set it up, describe it.

The harness never imports the Django project; it runs ``python -m project
setupdb`` in a subprocess with the servers' own environment, and talks to
PostgreSQL only to check it is reachable and to count a server's connections.
It reads one thing from either database itself: a table's row count, for the
write check of scenarios that declare ``verify_rows``.
"""

import contextlib
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench import ROOT
from bench.errors import BenchError

DEFAULT_SQLITE = ROOT / ".data" / "bench.sqlite3"


def redact_url(url: str) -> str:
    """A database URL without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def is_postgres(env: dict[str, str]) -> bool:
    return bool(env.get("DATABASE_URL"))


def describe(env: dict[str, str]) -> dict[str, Any]:
    if is_postgres(env):
        return {"engine": "postgresql", "url": redact_url(env["DATABASE_URL"])}
    return {"engine": "sqlite", "path": env.get("BENCH_SQLITE_PATH", str(DEFAULT_SQLITE))}


def check_reachable(url: str) -> dict[str, Any]:
    """Connect once; one clear line when PostgreSQL cannot be reached."""
    import psycopg

    parts = urlsplit(url)
    where = f"{parts.hostname or 'localhost'}:{parts.port or 5432}"
    if parts.scheme not in ("postgres", "postgresql"):
        raise BenchError(f"DATABASE_URL must be a postgres:// URL, got {redact_url(url)}")
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            version = conn.execute("SHOW server_version").fetchone()
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BenchError(f"PostgreSQL at {where} is unreachable: {first}") from None
    return {"server_version": version[0] if version else None}


def setup(env: dict[str, str]) -> str:
    """Create and seed the database the servers will use (idempotent)."""
    result = subprocess.run(
        [sys.executable, "-m", "project", "setupdb"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        lines = (result.stdout + result.stderr).strip().splitlines()
        raise BenchError("database set-up failed: " + (lines[-1] if lines else "no output"))
    return result.stdout.strip()


_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def count_rows(env: dict[str, str], table: str) -> int:
    """Rows of ``table`` in the database the servers of ``env`` use, read
    directly (sqlite3 or psycopg, no Django): a BenchError when it cannot be read."""
    if not _TABLE_NAME.fullmatch(table):
        raise BenchError(f"cannot count rows of {table!r}: not a plain table name")
    if is_postgres(env):
        import psycopg
        from psycopg import sql

        try:
            with psycopg.connect(env["DATABASE_URL"], connect_timeout=5) as conn:
                query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
                row = conn.execute(query).fetchone()
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BenchError(f"cannot count rows of {table}: {first}") from None
        return int(row[0]) if row else 0
    # A relative path means the same file to the servers: they share our cwd.
    path = Path(env.get("BENCH_SQLITE_PATH") or DEFAULT_SQLITE)
    if not path.exists():
        raise BenchError(f"cannot count rows of {table}: no SQLite database at {path}")
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=30)) as conn:
            (count,) = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()
    except sqlite3.Error as exc:
        raise BenchError(f"cannot count rows of {table}: {exc}") from None
    return int(count)
