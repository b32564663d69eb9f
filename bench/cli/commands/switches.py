"""``switches``: the switch-cost fit of a run, beside the microbenchmark."""

import argparse
from collections.abc import Sequence
from pathlib import Path

from bench.cli import arguments, formatter
from bench.results import store as results

NAME = "switches"
SUMMARY = "the switch-cost fit of a run, beside the microbenchmark"
DESCRIPTION = """\
The cost of one sync<->async switch, three ways side by side: the
microbenchmark of the adapters alone (the newest microbench run unless
--microbench names one), the switch accounting inside real requests, and the
fit of server CPU per request against switches per request over a run's
cells (a run of the switches scenario: run --scenario switches). Writes
switches.json and the fit's charts into the run's directory."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The run to fit, and optionally which microbenchmark to set beside it."""
    arguments.add_run_directory(parser)
    parser.add_argument(
        "--microbench",
        type=Path,
        default=None,
        help="a microbench summary.json (default: the newest under results/)",
    )


def show_switches(run_dir: Path, microbench_path: Path | None) -> None:
    """Fit, print and chart the switch cost of a run (also the end of ``run``)."""
    from bench.report import switch_report

    run = results.read_run(run_dir)
    microbench_path, microbench = switch_report.load_microbench(run.path.parent, microbench_path)
    analysis = switch_report.analyse(run, microbench)
    for line in formatter.switches(switch_report.format_report(analysis), microbench_path):
        print(line)
    for path in switch_report.write(run, analysis):
        print(formatter.wrote(path))


def run_from_args(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Fit and print the named run's switch cost."""
    show_switches(args.run, args.microbench)
    return 0
