"""``microbench``: the asgiref adapters alone, timed with pyperf."""

import argparse
from collections.abc import Sequence
from pathlib import Path

from bench.cli import arguments, formatter
from bench.results import store as results

NAME = "microbench"
SUMMARY = "time the asgiref adapters with pyperf"
DESCRIPTION = """\
Time asgiref's sync_to_async and async_to_sync alone, in-process, with pyperf
(several worker processes pinned to the server's CPU, warm-ups, calibrated
loops), and derive the cost of one switch: an adapter's time minus the plain
call or await it replaces. Also the switch accounting's own cost. Writes
results/<timestamp>-microbench/ (pyperf's JSON and summary.json), which the
switches command sets beside its fit."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """How long, on which CPUs, which benchmarks."""
    server_cpus, _ = arguments.default_cpus()
    parser.add_argument("--quick", action="store_true", help="fewer pyperf processes and values")
    parser.add_argument(
        "--cpus", type=arguments.cpu_list, default=server_cpus, help="CPUs for pyperf's workers"
    )
    parser.add_argument(
        "--results", type=Path, default=results.DEFAULT_RESULTS, help="results root"
    )
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks")


def run_from_args(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Run pyperf, print the table of its summary."""
    from bench.run import microbench

    run_dir, summary = microbench.execute(
        args.results, cpus=args.cpus, quick=args.quick, only=args.only
    )
    print(formatter.microbench_table(summary))
    print(formatter.results_line(run_dir))
    return 0
