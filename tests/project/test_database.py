import pytest

from project.database import DatabaseConfigError, database_settings


def test_sqlite_is_the_default(tmp_path):
    settings = database_settings({"BENCH_SQLITE_PATH": str(tmp_path / "x.sqlite3")})
    assert settings["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["NAME"] == str(tmp_path / "x.sqlite3")
    assert settings["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_postgres_url_is_parsed():
    settings = database_settings({"DATABASE_URL": "postgres://bob:s%40cret@db.local:6543/bench"})
    assert settings["ENGINE"] == "django.db.backends.postgresql"
    assert (settings["NAME"], settings["USER"], settings["PASSWORD"]) == ("bench", "bob", "s@cret")
    assert (settings["HOST"], settings["PORT"]) == ("db.local", "6543")
    assert settings["CONN_MAX_AGE"] == 0
    assert "pool" not in settings["OPTIONS"]


def test_connection_modes():
    url = {"DATABASE_URL": "postgres://postgres@127.0.0.1/test"}
    persistent = database_settings({**url, "BENCH_DB_CONN": "persistent"})
    assert persistent["CONN_MAX_AGE"] == 600
    pool = database_settings({**url, "BENCH_DB_CONN": "pool", "BENCH_DB_POOL_SIZE": "8"})
    assert pool["OPTIONS"]["pool"] == {"min_size": 8, "max_size": 8, "timeout": 30}
    assert pool["CONN_MAX_AGE"] == 0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "mysql://x/y"}, "must start with postgres"),
        ({"DATABASE_URL": "postgres://x"}, "names no database"),
        ({"DATABASE_URL": "postgres://x/y", "BENCH_DB_CONN": "forever"}, "valid modes"),
        (
            {"DATABASE_URL": "postgres://x/y", "BENCH_DB_CONN": "pool", "BENCH_DB_POOL_SIZE": "0"},
            ">= 1",
        ),
        (
            {"DATABASE_URL": "postgres://x/y", "BENCH_DB_CONN": "pool", "BENCH_DB_POOL_SIZE": "a"},
            "must be an integer",
        ),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(env, message):
    with pytest.raises(DatabaseConfigError, match=message):
        database_settings(env)
