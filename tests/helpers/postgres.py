"""Whether the PostgreSQL server the postgres tests need is reachable.

Apart from conftest.py on purpose: a test that imports ``tests.conftest`` runs
conftest's module code a second time under another name, which draws a new
upstream port and points the session's environment at it, so every later live
server calls an upstream service that is not there.
"""


def postgres_available() -> bool:
    import psycopg

    try:
        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=test", connect_timeout=3
        ):
            return True
    except psycopg.Error:
        return False
