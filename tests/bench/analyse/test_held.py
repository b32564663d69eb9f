"""The held-connections scenario: its declaration, a thread per held connection
for gthread, the file-descriptor guard, and the analysis of memory, threads and
connections kept (against hand-made cells with known answers)."""

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from bench import ROOT
from bench.analyse import held
from bench.errors import UsageError
from bench.measure import repeat as measure
from bench.plan import fdlimit, matrix, scenarios
from bench.report import pages
from bench.report.contents import Report
from bench.results import store as results
from bench.results.records import RepeatRecord
from bench.run import execute as run
from bench.run import options as run_options
from bench.serve import servers

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "runs"


@pytest.fixture(scope="module")
def scenario() -> scenarios.Scenario:
    return scenarios.discover()["held"]


def test_the_scenario_is_declared_outside_the_default_groups(scenario):
    assert scenario.groups == ("held",)
    assert scenario.endpoints == {"sse": "SseUser", "longpoll": "LongPollUser"}
    assert scenario.users == (100, 1000, 5000)
    assert scenario.servers == ("gunicorn-gthread", "uvicorn")
    assert scenario.threads_per_user
    assert scenario.warmup_for(100, 1.5) == 1.5 and scenario.warmup_for(5000, 1.5) == 10.0
    assert scenario.path_of("longpoll") == "longpoll?interval=1000"
    assert scenario.primer_path("sse", "async") == "/async/sse?interval=1000&seconds=1"
    # the recorded names: "EVENT <style>/<endpoint>?interval=1000"
    assert scenario.primary.format(style="sync", endpoint="sse") == "EVENT sync/sse?interval=1000"
    everything = scenarios.discover()
    for group in ("default", "findings"):
        names = {s.name for s in scenarios.select(everything, [group])} if group else set()
        assert "held" not in names
    assert [s.name for s in scenarios.select(everything, ["held"])] == ["held"]


def test_the_default_subset_pairs_asgi_async_with_wsgi_sync_plus_one_sync_stream(scenario):
    cells = matrix.expand([scenario], matrix.Selection()).cells
    ids = {cell.id for cell in cells}
    expected = {
        f"held.{endpoint}.{server}.{style}.none.u{users}"
        for endpoint in ("sse", "longpoll")
        for server, style in (("gunicorn-gthread", "sync"), ("uvicorn", "async"))
        for users in (100, 1000, 5000)
    } | {"held.sse.uvicorn.sync.none.u100"}
    assert ids == expected
    assert len(matrix.expand([scenario], matrix.Selection(full=True)).cells) == 24


def test_the_scenario_imports_under_locust(scenario):
    scenarios.check_importable([scenario])


def _plan(cell: matrix.Cell, scenario: scenarios.Scenario, tmp_path) -> measure.Plan:
    settings = measure.Settings(
        warmup=1.0,
        duration=1.0,
        server_cpus=None,
        loadgen_cpus=None,
        options=servers.ServerOptions(threads=4),
        base_env={},
    )
    return run._plan(cell, scenario, 1, tmp_path, settings, run_options.RunOptions())


def test_gthread_cells_get_a_thread_and_room_for_each_held_connection(scenario, tmp_path):
    settings_options = servers.ServerOptions(threads=4)
    cell = matrix.Cell("held", "sse", "gunicorn-gthread", "sync", "none", 5000)
    plan = _plan(cell, scenario, tmp_path)
    options = plan.server_options
    assert options is not None and options.threads == 5000
    assert options.worker_connections == 10_000  # threads + connections
    assert plan.primary == "EVENT sync/sse?interval=1000"
    assert plan.warmup == 10.0  # 5,000 connections take seconds to open
    spec = servers.get("gunicorn-gthread")
    command = spec.command("project.wsgi:application", "127.0.0.1", 8000, options)
    assert command[command.index("--threads") + 1] == "5000"
    assert command[command.index("--worker-connections") + 1] == "10000"
    assert spec.describe(options)["worker_connections"] == 10_000
    small = servers.thread_per_connection(settings_options, 100)
    assert (small.threads, small.worker_connections) == (100, 1000)  # never below the default
    # other scenarios keep the run's options, and gunicorn its default limit
    json = scenarios.discover()["json"]
    other = _plan(
        matrix.Cell("json", "json", "gunicorn-gthread", "sync", "none", 32), json, tmp_path
    )
    assert other.server_options is None and other.warmup == 1.0
    assert "--worker-connections" not in spec.command(
        "app:app", "127.0.0.1", 8000, settings_options
    )


def test_gunicorns_gthread_worker_limits_what_the_options_assume():
    # The sizes above rest on gunicorn 27's gthread worker: it stops accepting
    # at worker_connections open connections, and keeps alive at most
    # worker_connections - threads between requests.
    from gunicorn.workers import gthread

    run_source = inspect.getsource(gthread.ThreadWorker.run)
    assert "self.nr_conns < self.worker_connections" in run_source
    init_source = inspect.getsource(gthread.ThreadWorker.__init__)
    assert "self.cfg.worker_connections - self.cfg.threads" in init_source
    request_source = inspect.getsource(gthread.ThreadWorker.handle_request)
    assert "len(self.keepalived_conns) >= self.max_keepalived" in request_source


def test_cells_needing_more_descriptors_than_the_hard_limit_are_refused():
    cells = [matrix.Cell("held", "sse", "uvicorn", "async", "none", users) for users in (100, 5000)]
    fdlimit.check(cells, hard=5000 + fdlimit.MARGIN)
    with pytest.raises(UsageError, match=r"u5000 holds 5000 connections.*hard limit of 5000"):
        fdlimit.check(cells, hard=5000)
    assert fdlimit.needed(5000) == 5000 + fdlimit.MARGIN


def test_a_run_raises_its_soft_limit_to_the_hard_one_and_children_inherit_it():
    code = (
        "import resource, subprocess, sys\n"
        "from bench.plan import fdlimit\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))\n"
        "found = fdlimit.raise_soft()\n"
        "child = subprocess.run(['sh', '-c', 'ulimit -n'], capture_output=True, text=True)\n"
        "print(found['soft_before'], found['soft'], found['hard'], child.stdout.strip())\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    before, soft, hard, child = output
    assert before == "256"
    if hard != "None":
        assert soft == hard == child


def repeat(
    users: int,
    *,
    uss_mb: float,
    threads: int,
    delivered: float | None = None,
    p99: float = 5.0,
    errors: float = 0.0,
    status: str = "ok",
    reason: str = "the server exited during the measurement",
    bound: bool = False,
) -> dict:
    return {
        "status": status,
        "reason": None if status == "ok" else reason,
        "primary": "EVENT async/sse?interval=1000",
        "throughput_rps": users if delivered is None else delivered,
        "error_rate": errors,
        "latency_ms": {"p99": p99, "count": 1000},
        "server": {"uss_peak_mb": uss_mb, "threads_peak": threads},
        "loadgen": {"bound": bound},
    }


def cell(endpoint: str, server: str, style: str, users: int, repeats: list[dict]) -> dict:
    identity = matrix.Cell("held", endpoint, server, style, "none", users).to_dict()
    return {"cell": identity, "repeats": repeats}


def threaded(users: int, **kwargs) -> list[dict]:
    # 50 MB + 20 KB per connection (a little noise either side), 5 + 1 thread each
    return [
        repeat(users, uss_mb=50 + (20 * users + noise) / 1024, threads=5 + users, **kwargs)
        for noise in (-300, 0, 300)
    ]


def test_the_fit_finds_the_known_cost_per_connection_and_where_it_stopped():
    cells = [
        cell("sse", "gunicorn-gthread", "sync", 100, threaded(100)),
        cell("sse", "gunicorn-gthread", "sync", 1000, threaded(1000)),
        # stalled while only 2,500 of its connections were open: left out of the fit
        cell("sse", "gunicorn-gthread", "sync", 5000, threaded(2500, delivered=3000)),
        *(
            cell("sse", "uvicorn", "async", n, [repeat(n, uss_mb=40 + n * 8 / 1024, threads=3)] * 3)
            for n in (100, 5000)
        ),
        cell("sse", "uvicorn", "sync", 100, [repeat(100, uss_mb=41, threads=104, delivered=0)] * 3),
        cell("json-like", "uvicorn", "async", 32, []),  # another scenario's cell is ignored
    ]
    cells[-1]["cell"]["scenario"] = "json"
    rows = {(row.server, row.style): row for row in held.rows(cells)}
    assert set(rows) == {("gunicorn-gthread", "sync"), ("uvicorn", "async"), ("uvicorn", "sync")}
    gthread = rows["gunicorn-gthread", "sync"]
    assert gthread.kb_per_connection == pytest.approx(20.0, abs=1e-6)
    assert gthread.base_mb == pytest.approx(50.0, abs=1e-6)
    assert gthread.threads_per_connection == pytest.approx(1.0)
    assert gthread.base_threads == pytest.approx(5.0)
    assert gthread.kept == 1000 and gthread.failed_at == 5000
    assert gthread.failure == "stalled: 3,000 of 5,000 events/s delivered"
    uvicorn = rows["uvicorn", "async"]
    assert uvicorn.kb_per_connection == pytest.approx(8.0)
    assert uvicorn.threads_per_connection == pytest.approx(0.0, abs=1e-9)
    assert uvicorn.kept == 5000 and uvicorn.failed_at is None
    one = rows["uvicorn", "sync"]
    assert one.kb_per_connection is None and one.kept == 0
    assert one.failure == "stalled: 0 of 100 events/s delivered"
    text = held.describe(one)
    assert text["memory"] == text["threads"] == "- (held at fewer than two user counts)"
    assert text["kept"] == "none" and text["configuration"] == "sse uvicorn sync"
    text = held.describe(gthread)
    assert text["memory"] == "20.0 KB (+ 50 MiB)" and text["threads"] == "1.00 (+ 5)"
    assert text["kept"] == "1,000" and text["failure"].startswith("at 5,000: stalled")
    assert held.describe(uvicorn)["kept"] == "5,000 (every count)"


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"errors": 0.05}, "refused: 5.0% of requests failed"),
        ({"p99": 2500.0}, "stalled: delivery p99 2,500 ms > 2 intervals"),
        ({"status": "failed"}, "failed: the server exited during the measurement"),
        (
            {"status": "failed", "reason": "no request succeeded in the measured window"},
            "stalled: no event delivered in the window",
        ),
    ],
)
def test_each_way_of_not_holding_is_named(kwargs, reason):
    assert (
        held.shortfall(RepeatRecord.from_json(repeat(100, uss_mb=1, threads=1, **kwargs)), 100)
        == reason
    )
    assert held.shortfall(RepeatRecord.from_json(repeat(100, uss_mb=1, threads=1)), 100) is None


def test_a_count_is_kept_when_most_repeats_held_and_the_interval_is_read_from_the_name():
    one_bad = threaded(100)
    one_bad[1] = repeat(100, uss_mb=50, threads=105, delivered=10, bound=True)
    (row,) = held.rows([cell("sse", "gunicorn-gthread", "sync", 100, one_bad)])
    assert row.kept == 100
    (level,) = row.levels
    assert level.repeats_held == 2 and level.loadgen_bound
    slow = repeat(100, uss_mb=1, threads=1, delivered=10, p99=3000)
    slow["primary"] = "EVENT sync/longpoll?interval=10000"  # 100 users / 10 s = 10 events/s
    slow = RepeatRecord.from_json(slow)
    assert held.interval_ms(slow) == 10_000 and held.shortfall(slow, 100) is None


def test_the_report_prints_a_held_section_only_when_there_is_one(tmp_path):
    import shutil

    target = tmp_path / "run_a"
    shutil.copytree(FIXTURES / "run_a", target)
    built = Report(run=results.read_run(target))
    pages.write_markdown(built)
    assert "## Held connections" not in (target / "report.md").read_text()
    built.held = held.rows(
        [
            cell("sse", "uvicorn", "async", n, [repeat(n, uss_mb=40 + n / 100, threads=3)])
            for n in (100, 1000)
        ]
    )
    pages.write_markdown(built)
    pages.write_html(built)
    markdown = (target / "report.md").read_text()
    assert "## Held connections" in markdown
    assert (
        "| sse uvicorn async | 10.2 KB (+ 40 MiB) | 0.00 (+ 3) | 1,000 (every count) | - |"
        in markdown
    )
    assert "<h2>Held connections</h2>" in (target / "report.html").read_text()


def test_a_fitted_slope_of_a_constant_never_prints_a_negative_zero():
    """numpy's least squares gives a constant's slope as +-1e-17 depending on the
    machine's BLAS; the text must not depend on which."""
    row = held.rows(
        [cell("sse", "uvicorn", "async", n, [repeat(n, uss_mb=40, threads=3)]) for n in (100, 1000)]
    )[0]
    for noise in (-1e-17, 1e-17, -0.0):
        row.threads_per_connection = noise
        row.base_threads = 3 + noise
        assert held.describe(row)["threads"] == "0.00 (+ 3)"
