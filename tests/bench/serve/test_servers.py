import pytest

from bench.errors import UsageError
from bench.serve import launch, servers

OPTIONS = servers.ServerOptions(workers=2, threads=8)


def argv(name: str, options=OPTIONS) -> list[str]:
    spec = servers.get(name)
    return spec.command(servers.BUNDLED.entry(spec.interface), "127.0.0.1", 8123, options)


def test_gunicorn_servers_share_workers_binding_and_no_control_socket():
    for name in ("gunicorn-sync", "gunicorn-gthread", "gunicorn-uvicorn", "gunicorn-asgi"):
        command = argv(name)
        assert command[1:3] == ["-m", "gunicorn"]
        assert "--no-control-socket" in command
        assert command[command.index("--workers") + 1] == "2"
        assert command[command.index("--bind") + 1] == "127.0.0.1:8123"
        assert "--access-logfile" not in command  # gunicorn's access log is off by default


def test_each_server_has_its_worker_class_and_app():
    assert argv("gunicorn-sync")[3] == "project.wsgi:application"
    assert "sync" in argv("gunicorn-sync")
    gthread = argv("gunicorn-gthread")
    assert gthread[gthread.index("--threads") + 1] == "8"
    assert "uvicorn_worker.UvicornWorker" in argv("gunicorn-uvicorn")
    asgi = argv("gunicorn-asgi")
    assert asgi[asgi.index("--worker-class") + 1] == "asgi" and "uvloop" in asgi
    assert argv("gunicorn-asgi")[3] == "project.asgi:application"


def test_uvicorn_uses_uvloop_httptools_and_no_access_log():
    command = argv("uvicorn")
    assert command[1:4] == ["-m", "uvicorn", "project.asgi:application"]
    for flag, value in (("--loop", "uvloop"), ("--http", "httptools"), ("--port", "8123")):
        assert command[command.index(flag) + 1] == value
    assert "--no-access-log" in command
    assert command[command.index("--workers") + 1] == "2"
    assert "--workers" not in argv("uvicorn", servers.ServerOptions(workers=1))


def test_optional_servers_build_their_commands():
    assert argv("granian-asgi")[argv("granian-asgi").index("--interface") + 1] == "asgi"
    assert argv("granian-wsgi")[-1] == "project.wsgi:application"
    assert "--bind" in argv("hypercorn")
    with pytest.raises(UsageError, match="one process"):
        argv("daphne")
    assert argv("daphne", servers.ServerOptions(workers=1))[-1] == "project.asgi:application"


def test_recorded_configuration_says_what_shapes_results():
    sync = servers.get("gunicorn-sync").describe(OPTIONS)
    assert sync["keep_alive"] is False and sync["workers"] == 2
    assert servers.get("gunicorn-gthread").describe(OPTIONS)["threads"] == 8
    assert servers.get("uvicorn").describe(OPTIONS)["event_loop"] == "uvloop"


def test_registry_and_unknown_names():
    assert servers.CORE_SERVERS == (
        "gunicorn-sync",
        "gunicorn-gthread",
        "uvicorn",
        "gunicorn-uvicorn",
        "gunicorn-asgi",
    )
    with pytest.raises(UsageError, match="valid servers"):
        servers.get("apache")


@pytest.mark.live
def test_a_server_that_exits_at_start_up_reports_its_log(tmp_path):
    from conftest import server_env

    spec = servers.get("uvicorn")
    with pytest.raises(launch.ServerStartError, match="exited with code") as info:
        launch.start(spec, env=server_env(BENCH_STACK="bogus"), log_path=tmp_path / "s.log")
    assert "unknown BENCH_STACK 'bogus'" in str(info.value)


@pytest.mark.live
def test_a_server_that_never_becomes_ready_times_out(tmp_path):
    from conftest import server_env

    spec = servers.get("uvicorn")
    with pytest.raises(launch.ServerStartError, match=r"not become ready within 2 s \(HTTP 404\)"):
        launch.start(
            spec, env=server_env(), log_path=tmp_path / "s.log", ready_path="/nope", timeout=2
        )


def test_a_server_runs_under_the_interpreter_its_options_name():
    import sys

    from bench.serve import servers as registry

    options = registry.ServerOptions(python="/envs/django52/bin/python")
    for name in ("gunicorn-gthread", "uvicorn"):
        argv = registry.get(name).command("project.wsgi:application", "127.0.0.1", 8000, options)
        assert argv[:2] == ["/envs/django52/bin/python", "-m"]
        default = registry.get(name).command(
            "project.wsgi:application", "127.0.0.1", 8000, registry.ServerOptions()
        )
        assert default[0] == sys.executable and default[1:] == argv[1:]
