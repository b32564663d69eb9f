"""The command line: one clear line and exit 2 for anything the user got wrong."""

import re
import subprocess
import sys

import pytest

from bench.cli import main as cli
from bench.cli.commands import BY_NAME, COMMANDS, listing
from bench.cli.commands import run as run_command
from bench.cli.parser import build_parser
from bench.errors import BenchError
from bench.serve import processes


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--scenario", "nope"], "unknown scenario 'nope'; valid scenarios:"),
        (["run", "--server", "apache"], "unknown server 'apache'; valid servers:"),
        (["run", "--stack", "fast"], "unknown stack 'fast'; valid stacks:"),
        (["run", "--style", "both"], "invalid choice: 'both'"),
        (["run", "--bogus"], "unrecognized arguments: --bogus"),
        (["run", "--repeats", "0"], "--repeats and --sweep-repeats must be >= 1"),
        (["run", "--server-cpus", "x"], "not a CPU list"),
        (["run", "--server-cpus", "999"], "this machine offers CPUs"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["cost", "--requests", "60", "20"], "--requests takes LOW HIGH with 1 <= LOW < HIGH"),
        (["cost", "--scenario", "db"], "scenario db needs a database or an upstream"),
        (["cost", "--server", "apache"], "unknown server 'apache'; valid servers:"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message, capsys):
    # In-process (a subprocess per case costs a second of imports each); the
    # subprocess test below checks the same promise through `python -m bench`.
    assert cli.main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_bad_input_through_python_m_bench_is_one_line_and_exit_2():
    result = run_cli("run", "--scenario", "nope")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0] == "error: " + lines[0].removeprefix("error: ")
    assert "unknown scenario 'nope'; valid scenarios:" in lines[0]


def test_list_names_scenarios_servers_and_stacks():
    result = run_cli("list")
    assert result.returncode == 0
    for word in ("json", "disconnect", "gunicorn-gthread", "uvicorn", "mixed"):
        assert word in result.stdout


def test_dry_run_lists_cells_and_the_expected_time():
    result = run_cli("run", "--dry-run", "--scenario", "json", "--server", "uvicorn", "--full")
    assert result.returncode == 0
    assert "json.json.uvicorn.async.none.u32" in result.stdout
    assert "24 cells, 9 repeats (3 for the 20 open-loop cells): about" in result.stdout


def test_quick_is_the_same_shape_but_short():
    args = build_parser().parse_args(["run", "--quick"])
    options = run_command.run_options(args, ["run", "--quick"])
    assert (options.duration, options.warmup, options.repeats) == (4.0, 1.0, 1)
    default = run_command.run_options(build_parser().parse_args(["run"]), ["run"])
    assert (default.duration, default.repeats, default.sweep_repeats) == (5.0, 9, 3)
    assert default.switch_accounting and default.calibrate


def test_help_describes_the_tool_its_commands_and_an_example(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert text.splitlines()[2].startswith("Measures a Django application served over WSGI")
    assert "dispatches" not in text and "cmd_" not in text
    for command in COMMANDS:
        assert re.search(rf"^ +{command.NAME} +{re.escape(command.SUMMARY)}$", text, re.M)
    assert "examples:\n  python -m bench run --quick\n" in text


def test_every_command_has_its_own_help_that_says_what_it_does(capsys):
    parser = build_parser()
    names = [command.NAME for command in COMMANDS]
    assert names == [*BY_NAME] and len(set(names)) == len(names)
    for command in COMMANDS:
        with pytest.raises(SystemExit):
            parser.parse_args([command.NAME, "--help"])
        text = capsys.readouterr().out
        assert text.startswith(f"usage: python -m bench {command.NAME} ")
        assert command.DESCRIPTION.splitlines()[0] in text, command.NAME


def test_main_dispatches_to_the_named_command_and_stops_what_it_started(monkeypatch):
    seen, stopped = [], []
    monkeypatch.setattr(listing, "run_from_args", lambda args, argv: seen.append(argv) or 7)
    monkeypatch.setattr(processes, "stop_all", lambda: stopped.append(True))
    assert cli.main(["list"]) == 7
    assert seen == [["list"]] and stopped == [True]


@pytest.mark.parametrize(
    ("raised", "code", "line"),
    [
        (BenchError("the port is busy"), 1, "error: the port is busy"),
        (KeyboardInterrupt(), 130, "error: interrupted"),
    ],
)
def test_an_error_inside_a_command_is_one_line(raised, code, line, monkeypatch, capsys):
    def fail(args, argv):
        raise raised

    monkeypatch.setattr(listing, "run_from_args", fail)
    assert cli.main(["list"]) == code
    assert capsys.readouterr().err == line + "\n"
