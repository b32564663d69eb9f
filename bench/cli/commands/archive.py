"""``archive``: a run's summary copied where it can be committed."""

import argparse
from collections.abc import Sequence
from pathlib import Path

from bench.cli import arguments, formatter
from bench.run.progress import console

NAME = "archive"
SUMMARY = "copy a run's summary (run.json, cells, report.md) to commit it"
DESCRIPTION = """\
Copy what a run's figures are read from (run.json, each cell's JSON without
the sampled memory series, report.md: tens of KiB) to docs/runs/<run id>/, or
under --to, so a figure quoted from the run can be checked by anyone. results/
itself is never committed."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The run to archive, and where."""
    arguments.add_run_directory(parser)
    parser.add_argument(
        "--to", type=Path, default=None, help="the archive's root (default: docs/runs/)"
    )


def run_from_args(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Copy the run and say how much it weighs."""
    from bench.results.archive import DEFAULT_ARCHIVE, archive

    target = archive(args.run, args.to or DEFAULT_ARCHIVE)
    size = sum(path.stat().st_size for path in target.rglob("*") if path.is_file())
    console.print(formatter.archived(target, size))
    return 0
