"""``list``: what can be measured here (a module name other than the builtin's)."""

import argparse
from collections.abc import Sequence

from bench.cli import formatter
from bench.plan import matrix, scenarios
from bench.serve import servers

NAME = "list"
SUMMARY = "list scenarios, servers and stacks"
DESCRIPTION = """\
List the bundled scenarios (what each measures, its endpoints and user
counts), the servers (and whether each is installed here) and the middleware
stacks: the names run --scenario, --server and --stack take."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``list`` takes no arguments."""


def run_from_args(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Discover the scenarios, ask each server whether it is installed, print them."""
    installed = {name: spec.available() for name, spec in servers.SERVERS.items()}
    lines = formatter.listing(
        scenarios.discover().values(), servers.SERVERS, installed, matrix.STACKS
    )
    for line in lines:
        print(line)
    return 0
