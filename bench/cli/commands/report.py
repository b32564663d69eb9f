"""``report``: a run's pages, and its verdicts on the terminal.

``show_report`` is the one place the command line builds a report: ``run``
calls it at its end, ``report`` for a run already on disk.
"""

import argparse
from collections.abc import Sequence
from pathlib import Path

from bench.cli import arguments, formatter
from bench.errors import UsageError

NAME = "report"
SUMMARY = "charts, report.md and report.html of a run"
DESCRIPTION = """\
Build a run's report again from its results (the newest run unless named):
the charts, report.md and a self-contained report.html in the run's
directory; prints the verdicts, the open-loop headlines and the caveats."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The run to report, and a cost run to set beside it."""
    arguments.add_run_directory(parser)
    parser.add_argument(
        "--cost",
        type=Path,
        metavar="DIR",
        help="a cost run (bench cost): its instructions per request beside each "
        "verdict's CPU time, and the share of the CPU ratio they explain",
    )


def show_report(run_dir: Path, cost_dir: Path | None = None) -> None:
    """Build the report of ``run_dir`` and print its verdicts and caveats."""
    from bench.report import beside, build, contents

    report = contents.read(run_dir)  # the verdicts, printed before any chart is drawn
    for line in formatter.verdicts(report):
        print(line)
    if cost_dir is not None:
        from bench.cost import gate

        report.cost_run = cost_dir
        report.beside = beside.rows(report, gate.read_baseline(cost_dir))
        for line in formatter.beside(report.beside, cost_dir):
            print(line)
    build.write(report)
    print(formatter.report_written(report))


def run_from_args(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Report the named run: a timed run's pages, or a cost run's table and chart."""
    from bench.cost.records import COST_FILE

    run_dir = args.run.resolve() if args.run.exists() else args.run
    if (run_dir / COST_FILE).exists():
        from bench.cost import gate
        from bench.report import cost_pages

        if args.cost is not None:
            raise UsageError("--cost goes with a timed run; this is a cost run")
        written = cost_pages.write(run_dir, gate.read_baseline(run_dir))
        print(formatter.results_line(written))
        return 0
    show_report(args.run, args.cost)
    return 0
