"""bench.site.project.ConnectionCounter: connections on a site's own database, a known count."""

import os
import time

import pytest
from helpers.postgres import postgres_available

from bench.site import project as site
from tests.helpers.usersite import FIXTURE

pytestmark = pytest.mark.postgres

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test"


def test_the_counter_counts_the_connections_held_on_the_sites_database(monkeypatch):
    if not postgres_available():
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    import psycopg

    name = f"djbench_count_{os.getpid()}"
    monkeypatch.setenv("USERSITE_PG_NAME", name)
    held: list = []
    counter = None
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        usersite = site.Site(directory=FIXTURE, settings="usersite.settings_postgres")
        counter = site.ConnectionCounter(usersite)
        assert counter.error is None
        assert counter.databases == [f"default (postgresql {name})"]
        assert counter() == 0  # it asks from the "postgres" database: its own is not counted
        held = [psycopg.connect(f"host=127.0.0.1 user=postgres dbname={name}") for _ in range(3)]
        assert counter() == 3
        held.pop().close()
        # a backend leaves pg_stat_activity once it has exited, a moment after the close
        deadline = time.monotonic() + 5
        while counter() != 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert counter() == 2
    finally:
        for connection in held:
            connection.close()
        if counter is not None:
            counter.close()
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
