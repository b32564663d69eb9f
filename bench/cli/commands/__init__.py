"""One module per command, as asv's ``commands/``: its arguments and its body.

A command module declares ``NAME`` (what the user types), ``SUMMARY`` (its
line in ``--help``), ``DESCRIPTION`` (its own ``--help``), ``add_arguments``
and ``run_from_args``, which returns the exit code. What it prints is worded in
``bench.cli.formatter``. ``COMMANDS`` is the order ``--help`` lists them in.
"""

import argparse
from collections.abc import Sequence
from typing import Protocol

from bench.cli.commands import (
    archive,
    calibrate,
    compare,
    cost,
    listing,
    microbench,
    report,
    run,
    soak,
    switches,
)


class Command(Protocol):
    """What bench.cli.parser and bench.cli.main need of a command module."""

    NAME: str
    SUMMARY: str
    DESCRIPTION: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run_from_args(self, args: argparse.Namespace, argv: Sequence[str]) -> int: ...


COMMANDS: tuple[Command, ...] = (
    run,
    soak,
    listing,
    calibrate,
    microbench,
    switches,
    cost,
    report,
    archive,
    compare,
)
BY_NAME: dict[str, Command] = {command.NAME: command for command in COMMANDS}
