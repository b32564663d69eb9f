"""``compare``: run B against run A, cell by cell, with significance."""

import argparse
from collections.abc import Sequence
from pathlib import Path

from bench.cli import formatter
from bench.results import store as results

NAME = "compare"
SUMMARY = "B against A: ratios per cell with significance"
DESCRIPTION = """\
Did B change anything? For every cell both runs measured: the ratio B/A of
throughput, p99 and CPU per request with its 95% interval (Welch's t-test on
log values, Holm-corrected), "not significant" said plainly. Refuses runs whose
scenario definitions differ unless --force; a different machine or versions
are printed as warnings above the table."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The two runs, and whether to compare different scenario definitions."""
    parser.add_argument("a", type=Path, help="the baseline run directory")
    parser.add_argument("b", type=Path, help="the run compared with it")
    parser.add_argument(
        "--force", action="store_true", help="compare even when the scenario definitions differ"
    )
    parser.add_argument(
        "--results", type=Path, default=results.DEFAULT_RESULTS, help="results root"
    )


def run_from_args(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Compare, print the table and where it was written."""
    from bench.report import compare

    out, text = compare.execute(args.a, args.b, force=args.force, results_root=args.results)
    for line in formatter.comparison(text, out):
        print(line)
    return 0
