"""``run``: measure a matrix of cells (or the user's own site) and report it."""

import argparse
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bench.cli import arguments, formatter, options
from bench.cli.commands.report import show_report
from bench.cli.commands.switches import show_switches
from bench.load import schedule
from bench.plan import matrix
from bench.results import store as results
from bench.results.records import RunDocument
from bench.run.progress import console

if TYPE_CHECKING:  # bench.run.execute is imported when a run starts, not for --help
    from bench.run.options import RunOptions

NAME = "run"
SUMMARY = "measure a matrix of cells"
DESCRIPTION = """\
Measure a matrix of cells: each scenario's endpoints under each server, view
style, middleware stack and user count, every cell repeated and the repeats
interleaved. Ends by printing the verdicts, the caveats and where the report
is (results/<UTC timestamp>-<label>/report.html; results/latest points at it).
With --project DIR, measures your own Django project instead of the bundled
one. --dry-run lists the cells and the expected time without running them."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Which cells, how each is measured, whose project, where it runs."""
    what = parser.add_argument_group("which cells")
    what.add_argument(
        "--scenario",
        nargs="+",
        metavar="NAME",
        help="scenarios to run (default: those of the default group)",
    )
    arguments.add_cell_filters(what)
    what.add_argument(
        "--users", nargs="+", type=int, metavar="N", help="user counts (replace the scenarios')"
    )
    what.add_argument(
        "--rate",
        nargs="+",
        type=int,
        metavar="R",
        help="open loop: requests per second falling due on a schedule, one cell per rate "
        "(replaces the user counts; --users then sets the pool)",
    )
    what.add_argument(
        "--full", action="store_true", help="every declared cell, not the default subset"
    )
    how = parser.add_argument_group("how each cell is measured")
    how.add_argument(
        "--duration", type=float, help="measured window, seconds (default 5; --quick 4)"
    )
    how.add_argument(
        "--warmup", type=float, help="warm-up before the window, seconds (default 1.5; --quick 1)"
    )
    how.add_argument(
        "--repeats", type=int, help="repeats per cell, interleaved (default 9; --quick 1)"
    )
    how.add_argument(
        "--sweep-repeats",
        type=int,
        help="repeats per open-loop (--rate) cell (default 3; --quick 1)",
    )
    how.add_argument(
        "--target-interval",
        type=float,
        metavar="PCT",
        help="after --repeats passes, add passes to the verdicts whose paired 95%% interval "
        "is wider than +-PCT%%, until each meets it or --budget is spent (default: off)",
    )
    how.add_argument(
        "--budget",
        type=arguments.duration,
        help="with --target-interval: the run's time limit, e.g. 15m or 900s (default 15m); "
        "no pass starts that would overrun it",
    )
    how.add_argument(
        "--quick", action="store_true", help="the same cells, short: 4 s windows, 1 repeat"
    )
    how.add_argument("--no-calibrate", action="store_true", help="skip the load-generator ceiling")
    _add_open_loop_arguments(how)
    how.add_argument(
        "--seed",
        type=int,
        help="seed of the cells' order in each pass (default: a fresh one, recorded in run.json)",
    )
    how.add_argument("--dry-run", action="store_true", help="list the cells and the expected time")
    arguments.add_site_arguments(parser)
    arguments.add_where_arguments(parser)


def _add_open_loop_arguments(how: argparse._ArgumentGroup) -> None:
    """How an open-loop (--rate) cell schedules its requests and judges its rate."""
    how.add_argument(
        "--schedule",
        choices=schedule.SCHEDULES,
        default="uniform",
        help="open loop: evenly spaced due times (default) or Poisson arrivals (seeded by --seed)",
    )
    how.add_argument(
        "--late-bound",
        type=float,
        help="open loop: seconds after its due time a request no user could send is dropped "
        "and counted (default 1)",
    )
    how.add_argument(
        "--slo",
        type=float,
        help="open loop: the p99 objective in ms for the sustained-rate headline (default 100)",
    )


def run_options(args: argparse.Namespace, argv: Sequence[str]) -> "RunOptions":
    """The run's options from its flags: --quick's shorter defaults, the label."""
    from bench.run.options import (
        DEFAULT_DURATION,
        DEFAULT_LATE_BOUND_S,
        DEFAULT_REPEATS,
        DEFAULT_SLO_MS,
        DEFAULT_SWEEP_REPEATS,
        DEFAULT_WARMUP,
        RunOptions,
    )

    selection = matrix.Selection(
        servers=tuple(args.server) if args.server else None,
        styles=tuple(args.style) if args.style else None,
        stacks=tuple(args.stack) if args.stack else None,
        users=tuple(args.users) if args.users else None,
        rates=tuple(args.rate) if args.rate else None,
        endpoints=tuple(args.endpoint) if args.endpoint else None,
        full=args.full,
        postgres=bool(os.environ.get("DATABASE_URL")),
    )
    quick = args.quick
    your_site = options.your_site(args)
    return RunOptions(
        site=your_site,
        scenario_names=args.scenario,
        selection=selection,
        duration=args.duration
        if args.duration is not None
        else (4.0 if quick else DEFAULT_DURATION),
        warmup=args.warmup if args.warmup is not None else (1.0 if quick else DEFAULT_WARMUP),
        repeats=args.repeats if args.repeats is not None else (1 if quick else DEFAULT_REPEATS),
        sweep_repeats=args.sweep_repeats
        if args.sweep_repeats is not None
        else (1 if quick else DEFAULT_SWEEP_REPEATS),
        label=args.label
        or ("site" if your_site else "quick" if quick else "full" if args.full else "bench"),
        calibrate=not args.no_calibrate,
        calibration_duration=2.0 if quick else 5.0,
        quick=quick,
        seed=args.seed,
        schedule=args.schedule,
        late_bound=args.late_bound if args.late_bound is not None else DEFAULT_LATE_BOUND_S,
        slo_ms=args.slo if args.slo is not None else DEFAULT_SLO_MS,
        target_interval=args.target_interval,
        budget_s=args.budget,
        command=["python -m bench", *argv],
        **options.where(args),
    )


def dry_run(run: "RunOptions") -> int:
    """List the cells, what the expansion and the site's inspection noted, the time."""
    from bench.run.cells import estimate_seconds, plan_cells, repeat_plan
    from bench.run.options import site_warnings

    _, expansion = plan_cells(run)
    lines = formatter.dry_run(
        expansion.cells,
        expansion.notes,
        site_warnings(run, expansion.cells),
        count=len(expansion.cells),
        plan=repeat_plan(run, expansion.cells),
        minutes=estimate_seconds(run, expansion.cells) / 60,
    )
    for line in lines:
        print(line)
    if run.target_interval is not None:
        from bench.run import stopping
        from bench.run.options import DEFAULT_BUDGET_S

        budget = run.budget_s if run.budget_s is not None else DEFAULT_BUDGET_S
        rule = stopping.Stopping(target=run.target_interval / 100, budget_s=budget)
        print(stopping.plan_line(rule, len(stopping.planned_pairs(expansion.cells)), run.repeats))
    return 0


def run_from_args(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Measure, then print the switch fit (when the run has switch cells) and the report."""
    from bench.run.execute import execute
    from bench.run.options import check_options, with_site

    run = run_options(args, argv)
    check_options(run)
    run = with_site(run, probe=not args.dry_run)
    if args.dry_run:
        return dry_run(run)
    run_dir = execute(run)
    document = RunDocument.from_json(results.read_json(run_dir / "run.json"))
    if any(cell.scenario == "switches" for cell in document.matrix.cells):
        show_switches(run_dir, None)
    show_report(run_dir)
    console.print(formatter.results_line(run_dir, document.status))
    return {"complete": 0, "interrupted": 130}.get(document.status, 1)
