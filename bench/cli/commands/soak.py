"""``soak``: one cell for a long time, minute by minute."""

import argparse
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bench.cli import arguments, formatter, options
from bench.errors import UsageError
from bench.plan import matrix, scenarios

if TYPE_CHECKING:
    from bench.run.options import RunOptions

NAME = "soak"
SUMMARY = "one cell for a long time, minute by minute"
DESCRIPTION = """\
Does this configuration stay the same after ten minutes? Runs one cell for
--minutes (default 10) and reports it minute by minute: throughput, p99,
errors and the server's peak RSS. Flags RSS growing more than 10% between the
first and the last minute, and errors that rise significantly; exits 1 when
the soak failed."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The one cell, its length, and where it runs (as ``run``)."""
    cell = parser.add_argument_group("the one cell")
    cell.add_argument("--scenario", default="json", help="scenario (default json)")
    cell.add_argument("--endpoint", default=None, help="endpoint (default: the scenario's first)")
    cell.add_argument("--server", default="uvicorn", help="server (default uvicorn)")
    cell.add_argument("--style", default="async", choices=scenarios.STYLES, help="view style")
    cell.add_argument("--stack", default=None, help="middleware stack (default: the scenario's)")
    cell.add_argument("--users", type=int, default=None, help="users (default: the scenario's)")
    cell.add_argument("--minutes", type=float, default=10.0, help="length of the soak (default 10)")
    arguments.add_where_arguments(parser)


def soak_options(args: argparse.Namespace, argv: Sequence[str]) -> "RunOptions":
    """A run of the one cell: one repeat as long as the soak, no calibration."""
    from bench.run.options import RunOptions

    available = scenarios.discover()
    (scenario,) = scenarios.select(available, [args.scenario])
    endpoint = args.endpoint or next(iter(scenario.endpoints))
    if endpoint not in scenario.endpoints:
        raise UsageError(
            f"unknown endpoint {endpoint!r} of {scenario.name}; valid: "
            f"{', '.join(scenario.endpoints)}"
        )
    if args.minutes <= 0:
        raise UsageError("--minutes must be > 0")
    selection = matrix.Selection(
        servers=(args.server,),
        styles=(args.style,),
        stacks=(args.stack,) if args.stack else (scenario.stacks[0],),
        users=(args.users,) if args.users else (scenario.users[0],),
        endpoints=(endpoint,),
        full=True,
        postgres=bool(os.environ.get("DATABASE_URL")),
    )
    return RunOptions(
        scenario_names=[scenario.name],
        selection=selection,
        duration=args.minutes * 60,
        warmup=5.0,
        repeats=1,
        label=args.label or f"soak-{args.server}-{args.style}",
        calibrate=False,
        command=["python -m bench", *argv],
        **options.where(args),
    )


def run_from_args(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Refuse a selection of more than one cell, run it, print the minutes."""
    from bench.run import soak
    from bench.run.cells import plan_cells
    from bench.run.execute import execute
    from bench.run.options import check_options

    run = soak_options(args, argv)
    check_options(run)
    _, expansion = plan_cells(run)
    if len(expansion.cells) != 1:
        raise UsageError(
            f"a soak measures one cell; this selection gives {len(expansion.cells)}: "
            + (", ".join(cell.id for cell in expansion.cells) or "; ".join(expansion.notes))
        )
    run_dir = execute(run)
    analysis = soak.analyse(run_dir)
    soak.write(run_dir, analysis)
    print(formatter.soak_table(analysis))
    print(formatter.results_line(run_dir))
    return 0 if analysis.status == "ok" else 1
