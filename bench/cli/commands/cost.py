"""``cost``: instructions per request of closed-loop cells, counted under valgrind."""

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bench.cli import arguments, formatter, options
from bench.errors import UsageError
from bench.plan import matrix, scenarios
from bench.results import store as results
from bench.serve.servers import ServerOptions

if TYPE_CHECKING:
    from bench.cost.execute import CostPlan

NAME = "cost"
SUMMARY = "instructions per request, counted under valgrind (noise-free)"
DESCRIPTION = """\
The noise-free cost of a whole request: each cell's server (one worker) runs
under valgrind's cachegrind with address randomisation off, PYTHONHASHSEED=0
and PYTHONMALLOC=malloc, and one sequential keep-alive client sends it a
fixed number of requests. Two server runs that differ only in how many
requests they answer (--requests LOW HIGH) are differenced, so start-up and
shutdown cancel: (I_high - I_low) / (HIGH - LOW) instructions per request,
summed over the server's processes. Printed beside it: the spread of the
repeats, sync<->async hops per request (switch accounting, in a run without
valgrind) and the ratio to the WSGI + sync cell of the same endpoint. Writes
results/<UTC timestamp>-cost/cost.json and valgrind's files under raw/.
Needs valgrind (apt-get install valgrind); each server run takes 10-20 s.

With --project DIR, counts your own site's pages instead (--path, one cell
per page and server: gunicorn-gthread and uvicorn unless --server names
others). With --baseline RUN, each cell is compared with the same cell of an
earlier cost run, and --fail-above PCT exits 3 when any grew by more than
PCT percent: a check for CI, as instruction counts repeat within a fraction
of a percent on any machine."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Which cells, how many requests, how many repeats, where the server runs."""
    server_cpus, _ = arguments.default_cpus()
    what = parser.add_argument_group("which cells")
    what.add_argument(
        "--scenario", nargs="+", metavar="NAME", default=["json"], help="scenarios (default: json)"
    )
    arguments.add_cell_filters(what)
    what.add_argument(
        "--full", action="store_true", help="every declared cell, not the default subset"
    )
    what.add_argument(
        "--cells",
        nargs="+",
        metavar="PATTERN",
        help="only the cells whose id matches one of these shell patterns, "
        "e.g. '*.gunicorn-gthread.sync.*' '*.uvicorn.async.*'",
    )
    how = parser.add_argument_group("how each cell is counted")
    how.add_argument(
        "--requests",
        nargs=2,
        type=int,
        default=[200, 600],
        metavar=("LOW", "HIGH"),
        help="requests of the two server runs differenced (default: 200 600)",
    )
    how.add_argument("--repeats", type=int, default=3, help="repeats of each cell (default: 3)")
    how.add_argument(
        "--hop-requests",
        type=int,
        default=200,
        help="requests of the run that counts hops, without valgrind (default: 200)",
    )
    how.add_argument(
        "--syscall-requests",
        nargs=2,
        type=int,
        default=[50, 150],
        metavar=("LOW", "HIGH"),
        help="requests of the two strace windows differenced, without valgrind (default: 50 150)",
    )
    how.add_argument(
        "--no-syscalls", action="store_true", help="do not count system calls with strace"
    )
    how.add_argument("--threads", type=int, default=4, help="threads of a gthread worker")
    how.add_argument(
        "--server-cpus",
        type=arguments.cpu_list,
        default=server_cpus,
        help="CPUs for the server (counts do not depend on it; other load does not slow it)",
    )
    how.add_argument(
        "--ready-timeout",
        type=float,
        default=300.0,
        help="seconds a server under valgrind may take to answer its first request",
    )
    how.add_argument("--results", type=Path, default=results.DEFAULT_RESULTS, help="results root")
    _add_release_and_gate_arguments(parser)
    arguments.add_site_arguments(parser)
    parser.set_defaults(target=None)


def _add_release_and_gate_arguments(parser: argparse.ArgumentParser) -> None:
    """The releases compared, and the baseline a CI check compares with."""
    versions = parser.add_argument_group("releases side by side (one cached environment each)")
    versions.add_argument(
        "--django",
        nargs="+",
        metavar="SPEC",
        help="Django releases: a series (5.2.x, newest on the index), an exact version "
        "(6.1.3) or a checkout's path; every cell runs in each",
    )
    versions.add_argument(
        "--asgiref",
        nargs="+",
        metavar="SPEC",
        help="asgiref releases, likewise (default: the harness's own); every Django with each",
    )
    gate = parser.add_argument_group("against a baseline (a check for CI)")
    gate.add_argument(
        "--baseline", type=Path, metavar="RUN", help="an earlier cost run's directory"
    )
    gate.add_argument(
        "--fail-above",
        type=float,
        metavar="PCT",
        help="exit 3 when a cell's instructions per request grew by more than PCT%% "
        "over --baseline",
    )


def _plan(args: argparse.Namespace) -> "CostPlan":
    """The bundled scenarios' cells, or one cell per page and server of --project."""
    from bench.cost import execute
    from bench.site import project as site_project

    if args.project is not None:
        if args.scenario != ["json"]:
            raise UsageError("--scenario cannot be used with --project: your pages are --path")
        args.scenario = None  # your_site refuses the bundled-only flags that are set
        your_site = options.your_site(args)
        assert your_site is not None
        facts = site_project.inspect(your_site)
        return execute.plan_site(your_site, facts, args.server)
    options.your_site(args)  # refuses --path and the like without --project
    selection = matrix.Selection(
        servers=tuple(args.server) if args.server else None,
        styles=tuple(args.style) if args.style else None,
        stacks=tuple(args.stack) if args.stack else None,
        endpoints=tuple(args.endpoint) if args.endpoint else None,
        full=args.full,
    )
    return execute.plan(
        scenarios.select(scenarios.discover(), args.scenario), selection, args.cells
    )


def run_from_args(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Plan the cells, count each, print the table and the comparison with the
    baseline; exit 1 if a cell failed, 3 if one grew above --fail-above."""
    from bench.cost import execute, gate, measure

    if args.fail_above is not None and args.baseline is None:
        raise UsageError("--fail-above needs --baseline RUN: the run to compare with")
    if args.fail_above is not None and args.fail_above < 0:
        raise UsageError(f"--fail-above takes a percentage >= 0, got {args.fail_above:g}")
    baseline = gate.read_baseline(args.baseline) if args.baseline is not None else None
    cost_plan = _plan(args)
    environments = []
    if args.django or args.asgiref:
        from bench.cost import releases

        for django, asgiref in releases.combinations(args.django, args.asgiref):
            print(f"environment: {django.label}, {asgiref.label} ...", flush=True)
            environments.append(releases.environment(django, asgiref))
    for note in cost_plan.notes:
        print(f"note: {note}")
    low, high = args.requests
    settings = measure.CostSettings(
        low=low,
        high=high,
        repeats=args.repeats,
        hop_requests=args.hop_requests,
        syscall_requests=None if args.no_syscalls else tuple(args.syscall_requests),
        ready_timeout=args.ready_timeout,
        cpus=args.server_cpus,
        options=ServerOptions(workers=1, threads=args.threads),
    )
    run_dir, document = execute.execute(
        cost_plan,
        settings,
        args.results,
        list(argv),
        lambda cell, stage: print(formatter.cost_progress(cell, stage), flush=True),
        environments,
    )
    print(formatter.cost_table(document, execute.ratios(document)))
    for line in formatter.hop_costs(execute.hop_costs(document)):
        print(line)
    for line in formatter.cost_syscalls(document):
        print(line)
    print(formatter.results_line(run_dir, document.status))
    if baseline is not None:
        result = gate.compare(document, baseline, str(args.baseline), args.fail_above)
        for line in formatter.cost_gate(result):
            print(line)
        if result.failed:
            return 3
    return 0 if document.status == "complete" else 1
