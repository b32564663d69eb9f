"""The argument parser, assembled in one place from the command modules.

Each module in ``bench.cli.commands`` declares its own arguments; this module
only gathers them under one program, with the description a user reads
first, and makes every bad argument one line and exit 2.
"""

import argparse
import sys
from pathlib import Path

from bench.cli.commands import COMMANDS
from bench.errors import UsageError

DESCRIPTION = """\
Measures a Django application served over WSGI and over ASGI, with sync (def)
and async (async def) views: throughput, exact latency percentiles, server CPU
per request, memory, threads, and the sync<->async switches asgiref makes.
Each cell (scenario, endpoint, server, view style, middleware stack, users)
runs on real servers (gunicorn, uvicorn) under locust, repeated and
interleaved; reports answer "should this site move to ASGI, and should its
views be async?" with 95% intervals, and every raw value is kept under
results/. Runs the bundled project and its scenarios, or your own project
(run --project DIR)."""

EPILOG = """\
examples:
  %(prog)s run --quick
      the headline questions (json and io, ASGI + async against WSGI + sync),
      short: 4 s windows, 1 repeat; a few minutes
  %(prog)s run --scenario json --dry-run
      the cells a run of the json scenario would measure, and how long it takes
  %(prog)s run --project . --path / --path /shop/
      your own Django project (run in its directory), two of its pages
  %(prog)s compare results/<before> results/<after>
      did the second run change anything, cell by cell

%(prog)s COMMAND --help describes a command and every flag it takes."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see --help)")


def program_name() -> str:
    """The name the user typed: ``djbench`` when installed, else ``python -m bench``."""
    return "djbench" if Path(sys.argv[0]).name == "djbench" else "python -m bench"


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: the program, then one subparser per command module."""
    parser = _Parser(
        prog=program_name(),
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(
        title="commands", dest="command", required=True, parser_class=_Parser, metavar="COMMAND"
    )
    for command in COMMANDS:
        sub = commands.add_parser(
            command.NAME,
            help=command.SUMMARY,
            description=command.DESCRIPTION,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_arguments(sub)
    return parser
