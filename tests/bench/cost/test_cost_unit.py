"""The cost mode without valgrind: its files read, its arithmetic, its plan, its client."""

import http.server
import threading
from pathlib import Path

import pytest

from bench.cost import client, execute, measure, valgrind
from bench.cost.records import (
    CostCell,
    CostDocument,
    CostRepeat,
    CostSettingsRecord,
    HopCount,
    ProcessRecord,
    ServerRun,
    ValgrindRecord,
)
from bench.plan import matrix, scenarios
from bench.plan.matrix import Cell
from bench.serve import servers
from bench.serve.ports import free_port
from bench.serve.servers import ServerOptions

OUT = """\
desc: I1 cache: 32768 B, 64 B, 8-way associative
cmd: /venv/bin/python -m gunicorn project.wsgi:application
events: I1mr Ir
fl=/x.c
fn=main
1 2 3
summary: 17 123456789
"""


def test_the_instruction_total_is_read_from_its_column_of_the_summary():
    count = valgrind.parse(OUT, 42)
    assert count == valgrind.ProcessCount(
        42, "/venv/bin/python -m gunicorn project.wsgi:application", 123456789
    )


def test_a_file_without_a_summary_is_an_error_naming_it():
    with pytest.raises(valgrind.ValgrindError, match=r"cachegrind.out.7 has no summary of Ir"):
        valgrind.parse(OUT.replace("summary:", "total:"), 7)


def test_every_process_file_is_read_by_pid_and_other_files_are_ignored(tmp_path):
    (tmp_path / "cachegrind.out.20").write_text(OUT)
    (tmp_path / "cachegrind.out.3").write_text(OUT.replace("123456789", "5"))
    (tmp_path / "cachegrind.out.20.tmp").write_text("partial")
    (tmp_path / "valgrind.20.log").write_text("log")
    counts = valgrind.read_counts(tmp_path)
    assert [(c.pid, c.instructions) for c in counts] == [(3, 5), (20, 123456789)]


def test_no_count_at_all_says_the_server_may_have_been_killed(tmp_path):
    with pytest.raises(valgrind.ValgrindError, match="killed before it exited"):
        valgrind.read_counts(tmp_path)


def test_the_command_line_turns_off_randomisation_and_names_a_file_per_process(tmp_path):
    tool = valgrind.Valgrind("/usr/bin/valgrind", "valgrind-3.19.0", "/usr/bin/setarch")
    argv = tool.command(["python", "-m", "uvicorn"], tmp_path)
    assert argv[0] == "/usr/bin/setarch" and argv[2] == "-R" and argv[3] == "/usr/bin/valgrind"
    assert "--tool=cachegrind" in argv and "--trace-children=yes" in argv
    assert "--cache-sim=no" in argv
    assert f"--cachegrind-out-file={tmp_path}/cachegrind.out.%p" in argv
    assert argv[-3:] == ["python", "-m", "uvicorn"]
    assert valgrind.ENVIRONMENT == {"PYTHONHASHSEED": "0", "PYTHONMALLOC": "malloc"}


def test_without_valgrind_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(valgrind.shutil, "which", lambda name: None)
    with pytest.raises(valgrind.ValgrindError, match="apt-get install valgrind"):
        valgrind.find()


def _run(requests: int, instructions: int, processes: int = 2) -> ServerRun:
    share = instructions // processes
    return ServerRun(
        requests=requests,
        instructions=instructions,
        processes=[ProcessRecord(pid, "python", share) for pid in range(processes)],
    )


def test_two_runs_differenced_give_the_slope_and_the_intercept():
    repeat = measure.difference(1, _run(20, 5_000 + 20 * 300), _run(60, 5_000 + 60 * 300))
    assert repeat.instructions_per_request == 300
    assert repeat.fixed_instructions == 5_000


def test_runs_whose_process_trees_differ_are_refused():
    with pytest.raises(measure.CostError, match="1 and 2 processes"):
        measure.difference(1, _run(20, 1000, processes=1), _run(60, 3000))


def test_gunicorn_is_given_time_to_exit_and_uvicorn_keeps_its_command():
    options = ServerOptions()
    gunicorn = measure.server_argv(servers.get("gunicorn-gthread"), 8000, options)
    assert gunicorn[-2:] == ["--graceful-timeout", "60"]
    uvicorn = measure.server_argv(servers.get("uvicorn"), 8000, options)
    wrapper = "bench.cost.in_server.window:asgi_application"
    assert uvicorn == servers.get("uvicorn").command(wrapper, "127.0.0.1", 8000, options)


def test_the_server_serves_the_project_inside_the_window_wrapper():
    app, env = measure.served(servers.get("gunicorn-gthread"))
    assert app == "bench.cost.in_server.window:wsgi_application"
    assert env == {"BENCH_COST_WSGI": servers.WSGI_APP}
    app, env = measure.served(servers.get("uvicorn"))
    assert app == "bench.cost.in_server.window:asgi_application"
    assert env == {"BENCH_COST_ASGI": servers.ASGI_APP}


def test_runs_that_held_different_full_collections_say_so():
    low, high = _run(20, 5_000 + 20 * 300), _run(60, 5_000 + 60 * 300 + 9_000)
    low.collections, high.collections = [3, 0, 0], [9, 1, 1]
    repeat = measure.difference(1, low, high)
    assert repeat.notes == [
        "the low run's requests held 0 full garbage collections and the high run's 1: "
        "a full collection's cost is in the difference"
    ]
    high.collections = [9, 1, 0]
    assert measure.difference(1, low, high).notes == []


def test_a_control_answer_that_is_not_the_wrapper_s_is_an_error():
    assert measure.control_state(b'{"pid": 7, "collections": [1, 2, 3]}') == (
        measure.ControlState(7, [1, 2, 3])
    )
    with pytest.raises(measure.CostError, match="did not answer the cost window"):
        measure.control_state(b"<html>Not found</html>")


def _cell(server: str, style: str, values: list[float], interface: str) -> CostCell:
    return CostCell(
        cell=Cell("json", "json", server, style, "none", 1),
        path=f"/{style}/json",
        server={"name": server, "interface": interface},
        status="ok",
        repeats=[CostRepeat(index=i + 1, instructions_per_request=v) for i, v in enumerate(values)],
        hops=HopCount(requests=10, sync_to_async=20, async_to_sync=10),
    )


def _document() -> CostDocument:
    return CostDocument(
        created="2026-12-02T16:00:00+00:00",
        settings=CostSettingsRecord(low_requests=200, high_requests=600, repeats=3),
        valgrind=ValgrindRecord(version="valgrind-3.19.0", tool="cachegrind"),
        cells=[
            _cell("gunicorn-gthread", "sync", [1_000_000, 1_002_000, 998_000], "wsgi"),
            _cell("uvicorn", "async", [1_800_000], "asgi"),
        ],
    )


def test_a_cell_s_median_and_spread_of_repeats():
    cell = _document().cells[0]
    assert cell.instructions_per_request == 1_000_000
    assert cell.spread_percent == pytest.approx(0.4)
    assert cell.disagreeing() == []  # 0.2% from the median at most
    assert _document().cells[1].spread_percent is None
    assert cell.hops.per_request == 3


def test_one_repeat_out_of_line_neither_moves_the_figure_nor_goes_unnamed():
    cell = _cell("gunicorn-gthread", "sync", [1_000_000, 1_004_000, 8_900_000], "wsgi")
    assert cell.instructions_per_request == 1_004_000
    assert [repeat.index for repeat in cell.disagreeing()] == [3]
    even = _cell("gunicorn-gthread", "sync", [1_000_000, 1_002_000], "wsgi")
    assert even.instructions_per_request == 1_001_000 and even.disagreeing() == []


def test_ratios_are_taken_to_the_wsgi_sync_cell_of_the_same_endpoint():
    ratios = execute.ratios(_document())
    assert ratios == {
        "json.json.gunicorn-gthread.sync.none.u1": 1.0,
        "json.json.uvicorn.async.none.u1": pytest.approx(1.8),
    }


def test_the_document_reads_back_key_for_key(tmp_path):
    document = _document()
    execute.save(tmp_path, document)
    again = execute.read(tmp_path)
    assert again.to_json() == document.to_json()
    assert again.cells[0].cell == document.cells[0].cell
    assert again.cells[0].repeats[2].instructions_per_request == 998_000


def test_the_plan_is_one_client_per_cell_of_the_json_scenario():
    found = scenarios.discover()
    plan = execute.plan([found["json"]], matrix.Selection())
    assert {(t.cell.id, t.path) for t in plan.targets} == {
        ("json.json.gunicorn-gthread.sync.none.u1", "/sync/json"),
        ("json.json.uvicorn.sync.none.u1", "/sync/json"),
        ("json.json.uvicorn.async.none.u1", "/async/json"),
    }
    loop = execute.plan([found["loop"]], matrix.Selection(servers=("uvicorn",), styles=("async",)))
    assert [t.path for t in loop.targets] == [
        "/async/loop?n=0",
        "/async/loop?n=10000",
        "/async/loop?n=30000",
    ]


def test_a_scenario_with_a_database_is_refused():
    with pytest.raises(execute.UsageError, match="scenario db needs a database"):
        execute.plan([scenarios.discover()["db"]], matrix.Selection())


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[str] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        status = 200 if self.path == "/ok" else 404
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def local_server():
    _Handler.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_client_sends_exactly_its_requests_on_one_connection(local_server):
    sender = client.Client("127.0.0.1", local_server.server_address[1], timeout=5)
    sender.connect_when_listening(lambda: True, 5)
    sender.get("/ok")
    sender.send("/ok", 4)
    sender.close()
    assert sender.sent == 5 and sender.connections == 1
    assert _Handler.seen == ["/ok"] * 5


def test_an_answer_other_than_200_is_an_error(local_server):
    sender = client.Client("127.0.0.1", local_server.server_address[1], timeout=5)
    sender.connect_when_listening(lambda: True, 5)
    try:
        with pytest.raises(client.ClientError, match="GET /missing answered HTTP 404"):
            sender.get("/missing")
    finally:
        sender.close()


def test_a_server_that_exits_before_listening_is_an_error():
    sender = client.Client("127.0.0.1", free_port(), timeout=1)
    with pytest.raises(client.ClientError, match="exited before it listened"):
        sender.connect_when_listening(lambda: False, 5)


def test_the_settings_are_checked_before_valgrind_is_looked_for(tmp_path):
    with pytest.raises(execute.UsageError, match="1 <= LOW < HIGH"):
        execute.execute(
            execute.CostPlan([], []),
            measure.CostSettings(low=5, high=5),
            tmp_path,
            [],
            lambda cell, stage: None,
        )
    assert not list(Path(tmp_path).iterdir())


def _hop_cell(endpoint: str, per_request: float, s2a: int) -> CostCell:
    return CostCell(
        cell=Cell("hops", endpoint, "uvicorn", "async", "none", 1),
        server={"interface": "asgi"},
        status="ok",
        repeats=[CostRepeat(index=1, instructions_per_request=per_request)],
        hops=HopCount(requests=100, sync_to_async=s2a),
    )


def test_the_cost_of_one_hop_is_the_extra_instructions_over_the_extra_hops():
    document = _document()
    document.cells += [
        _hop_cell("hops10", 2_800_000, 1200),
        _hop_cell("hops0", 1_800_000, 200),
    ]
    (cost,) = execute.hop_costs(document)  # the json cells differ in server or style
    assert cost.group == "hops uvicorn async none"
    assert (cost.low.cell.endpoint, cost.high.cell.endpoint) == ("hops0", "hops10")
    assert cost.hops == 10
    assert cost.instructions_per_hop == 100_000


def test_a_page_is_a_cell_endpoint_of_letters_digits_and_dashes():
    assert execute.page_endpoint("/") == "root"
    assert execute.page_endpoint("/blog/2026/post.html?page=2") == "blog-2026-post-html-page-2"


def _site(tmp_path: Path, paths: tuple[tuple[str, float], ...]) -> tuple:
    from bench.results.records.site import SiteFacts
    from bench.site import project as site_project

    site = site_project.Site(directory=tmp_path, settings="mysite.settings", paths=paths)
    facts = SiteFacts(wsgi="mysite.wsgi:application", asgi="mysite.asgi:application")
    return site, facts


def test_a_site_has_a_cell_per_page_and_server_served_through_its_wrapper(tmp_path):
    site, facts = _site(tmp_path, (("/", 1.0), ("/blog/", 3.0)))
    cost_plan = execute.plan_site(site, facts, None)
    assert [target.cell.id for target in cost_plan.targets] == [
        "site.root.gunicorn-gthread.own.own.u1",
        "site.blog.gunicorn-gthread.own.own.u1",
        "site.root.uvicorn.own.own.u1",
        "site.blog.uvicorn.own.own.u1",
    ]
    target = cost_plan.targets[1]
    assert target.path == "/blog/"
    app, env = measure.served(target.spec, target.application)
    assert app == "bench.cost.in_server.window:wsgi_application"
    assert env["BENCH_COST_WSGI"] == "bench.site.in_server.app:wsgi_application"
    assert env["BENCH_SITE_WSGI"] == "mysite.wsgi:application"
    assert env["DJANGO_SETTINGS_MODULE"] == "mysite.settings"
    assert target.application.cwd == tmp_path
    assert target.application.answers(302)  # a login redirect is a page


def test_a_site_without_an_asgi_application_skips_the_asgi_server(tmp_path):
    site, facts = _site(tmp_path, (("/", 1.0),))
    facts.asgi = None
    cost_plan = execute.plan_site(site, facts, None)
    assert [t.cell.server for t in cost_plan.targets] == ["gunicorn-gthread"]
    assert cost_plan.notes == ["uvicorn skipped: the site has no ASGI application"]


def test_two_paths_that_make_the_same_cell_are_refused(tmp_path):
    site, facts = _site(tmp_path, (("/a-b", 1.0), ("/a/b", 1.0)))
    with pytest.raises(execute.UsageError, match="same page"):
        execute.plan_site(site, facts, None)


def test_a_site_page_s_ratio_is_to_the_same_page_under_wsgi():
    wsgi = CostCell(
        cell=Cell("site", "root", "gunicorn-gthread", "own", "own", 1),
        server={"interface": "wsgi"},
        repeats=[CostRepeat(index=1, instructions_per_request=1_000_000)],
    )
    asgi = CostCell(
        cell=Cell("site", "root", "uvicorn", "own", "own", 1),
        server={"interface": "asgi"},
        repeats=[CostRepeat(index=1, instructions_per_request=5_000_000)],
    )
    ratios = execute.ratios(CostDocument(cells=[wsgi, asgi]))
    assert ratios == {
        "site.root.gunicorn-gthread.own.own.u1": 1.0,
        "site.root.uvicorn.own.own.u1": 5.0,
    }


def test_the_high_run_goes_first_and_the_low_run_lasts_as_long(tmp_path, monkeypatch):
    calls = []

    def fake_run(target, requests, out_dir, tool, env, settings, last_seconds=0.0):
        calls.append((requests, last_seconds))
        run = _run(requests, 5_000 + requests * 300)
        run.seconds = 12.5 if requests == 600 else 4.0
        return run

    monkeypatch.setattr(measure, "server_run", fake_run)
    raw_dir = tmp_path / "raw" / "cell"
    repeat = measure.repeat(None, 1, raw_dir, None, {}, measure.CostSettings(low=200, high=600))
    assert calls == [(600, 0.0), (200, 12.5)]
    assert repeat.low.requests == 200 and repeat.high.requests == 600
    assert repeat.instructions_per_request == 300
