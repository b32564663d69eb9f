"""The command line: parses arguments and dispatches to ``cmd_<name>``.

Every error a user can cause is a BenchError, caught once in ``main`` and
printed as one line (exit 2 for usage, 1 otherwise); never a traceback.
"""

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.errors import BenchError, UsageError
from bench.load import schedule
from bench.load.loadgen import Topology
from bench.plan import matrix, scenarios
from bench.results import store as results
from bench.run.progress import console
from bench.serve import processes, servers
from bench.serve.ports import check_target, is_loopback_host
from bench.site import project as site


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see --help)")


def _cpus(text: str) -> frozenset[int]:
    try:
        return processes.parse_cpus(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a CPU list: {text!r} (e.g. 0 or 0,2 or 1-3)"
        ) from None


def default_cpus() -> tuple[frozenset[int] | None, frozenset[int] | None]:
    """Server on the first CPU, locust on the second; unpinned on a one-CPU machine."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        return None, None
    return frozenset({available[0]}), frozenset({available[1]})


def _add_where_arguments(parser: argparse.ArgumentParser) -> None:
    """Where servers and load run: shared by run and soak."""
    server_cpus, loadgen_cpus = default_cpus()
    where = parser.add_argument_group("servers and load generator")
    where.add_argument("--workers", type=int, default=1, help="worker processes per server")
    where.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    where.add_argument(
        "--server-cpus",
        type=_cpus,
        default=server_cpus,
        help=f"CPUs for the server (default {processes.format_cpus(server_cpus)})",
    )
    where.add_argument(
        "--loadgen-cpus",
        type=_cpus,
        default=loadgen_cpus,
        help=f"CPUs for locust and the upstream (default {processes.format_cpus(loadgen_cpus)})",
    )
    where.add_argument(
        "--ready-timeout",
        type=float,
        default=30.0,
        help="seconds a server may take to answer its first request",
    )
    where.add_argument(
        "--loadgen-workers",
        type=int,
        default=0,
        metavar="N",
        help="run locust as a master and N local workers (distributed mode)",
    )
    where.add_argument(
        "--loadgen-remote-workers",
        type=int,
        default=0,
        metavar="M",
        help="also wait for M workers started by hand on other machines",
    )
    where.add_argument(
        "--loadgen-master-bind",
        default="127.0.0.1",
        metavar="HOST",
        help="where the locust master listens for workers (0.0.0.0 for remote)",
    )
    where.add_argument(
        "--loadgen-master-port",
        type=int,
        default=None,
        metavar="PORT",
        help="the master's port (fixed, so remote workers can find it)",
    )
    where.add_argument(
        "--target",
        metavar="URL",
        help="load a server the harness did not start (loopback unless allowed)",
    )
    where.add_argument(
        "--allow-remote-host",
        action="store_true",
        help="allow --target to name a host that is not loopback",
    )
    where.add_argument(
        "--no-switches",
        action="store_true",
        help="turn switch accounting off (it is on by default)",
    )
    where.add_argument("--results", type=Path, default=results.DEFAULT_RESULTS, help="results root")
    where.add_argument("--label", default=None, help="name appended to the run directory")


def _add_site_arguments(parser: argparse.ArgumentParser) -> None:
    yours = parser.add_argument_group(
        "your own Django project (instead of the bundled one and its scenarios)"
    )
    yours.add_argument("--project", type=Path, metavar="DIR", help="your project's directory")
    yours.add_argument(
        "--settings",
        metavar="MODULE",
        help="your settings module, e.g. mysite.settings (default: the one manage.py names)",
    )
    yours.add_argument(
        "--wsgi", metavar="MODULE:APP", help="WSGI application (default: WSGI_APPLICATION)"
    )
    yours.add_argument(
        "--asgi", metavar="MODULE:APP", help="ASGI application (default: <package>.asgi)"
    )
    yours.add_argument(
        "--path",
        action="append",
        metavar="PATH[@WEIGHT]",
        help="a page to GET (repeatable; /page@3 for three times the share; default /); "
        "with --locustfile, pages checked before measuring",
    )
    yours.add_argument(
        "--locustfile", type=Path, metavar="FILE", help="your own locustfile, run as it is"
    )
    yours.add_argument(
        "--allow-debug", action="store_true", help="measure a site whose DEBUG is True"
    )


def _add_run_arguments(parser: argparse.ArgumentParser) -> None:
    what = parser.add_argument_group("which cells")
    what.add_argument(
        "--scenario",
        nargs="+",
        metavar="NAME",
        help="scenarios to run (default: those of the default group)",
    )
    what.add_argument(
        "--server", nargs="+", metavar="NAME", help=f"servers: {', '.join(servers.SERVERS)}"
    )
    what.add_argument("--style", nargs="+", choices=scenarios.STYLES, help="view styles")
    what.add_argument(
        "--stack", nargs="+", metavar="NAME", help=f"middleware stacks: {', '.join(matrix.STACKS)}"
    )
    what.add_argument("--endpoint", nargs="+", metavar="NAME", help="endpoints of the scenarios")
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
        "--quick", action="store_true", help="the same cells, short: 4 s windows, 1 repeat"
    )
    how.add_argument("--no-calibrate", action="store_true", help="skip the load-generator ceiling")
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
    how.add_argument(
        "--seed",
        type=int,
        help="seed of the cells' order in each pass (default: a fresh one, recorded in run.json)",
    )
    how.add_argument("--dry-run", action="store_true", help="list the cells and the expected time")
    _add_site_arguments(parser)
    _add_where_arguments(parser)


def _add_soak_arguments(parser: argparse.ArgumentParser) -> None:
    cell = parser.add_argument_group("the one cell")
    cell.add_argument("--scenario", default="json", help="scenario (default json)")
    cell.add_argument("--endpoint", default=None, help="endpoint (default: the scenario's first)")
    cell.add_argument("--server", default="uvicorn", help="server (default uvicorn)")
    cell.add_argument("--style", default="async", choices=scenarios.STYLES, help="view style")
    cell.add_argument("--stack", default=None, help="middleware stack (default: the scenario's)")
    cell.add_argument("--users", type=int, default=None, help="users (default: the scenario's)")
    cell.add_argument("--minutes", type=float, default=10.0, help="length of the soak (default 10)")
    _add_where_arguments(parser)


def build_parser() -> argparse.ArgumentParser:
    program = "djbench" if Path(sys.argv[0]).name == "djbench" else "python -m bench"
    parser = _Parser(prog=program, description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = commands.add_parser("run", help="measure a matrix of cells")
    _add_run_arguments(run)
    soak = commands.add_parser("soak", help="one cell for a long time, minute by minute")
    _add_soak_arguments(soak)
    commands.add_parser("list", help="list scenarios, servers and stacks")
    calibrate = commands.add_parser(
        "calibrate", help="locust's ceiling, and locust against wrk on one server"
    )
    server_cpus, loadgen_cpus = default_cpus()
    calibrate.add_argument("--server", default="gunicorn-gthread", help="server for the wrk check")
    calibrate.add_argument("--users", type=int, default=32, help="locust users = wrk connections")
    calibrate.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    calibrate.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    calibrate.add_argument("--server-cpus", type=_cpus, default=server_cpus)
    calibrate.add_argument("--loadgen-cpus", type=_cpus, default=loadgen_cpus)
    calibrate.add_argument("--results", type=Path, default=results.DEFAULT_RESULTS)
    micro = commands.add_parser("microbench", help="time the asgiref adapters with pyperf")
    micro.add_argument("--quick", action="store_true", help="fewer pyperf processes and values")
    micro.add_argument("--cpus", type=_cpus, default=server_cpus, help="CPUs for pyperf's workers")
    micro.add_argument("--results", type=Path, default=results.DEFAULT_RESULTS)
    micro.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks")
    switches = commands.add_parser(
        "switches", help="the switch-cost fit of a run, beside the microbenchmark"
    )
    switches.add_argument("run", nargs="?", type=Path, default=results.DEFAULT_RESULTS / "latest")
    switches.add_argument(
        "--microbench",
        type=Path,
        default=None,
        help="a microbench summary.json (default: the newest under results/)",
    )
    report = commands.add_parser("report", help="charts, report.md and report.html of a run")
    report.add_argument("run", nargs="?", type=Path, default=results.DEFAULT_RESULTS / "latest")
    archive = commands.add_parser(
        "archive", help="copy a run's summary (run.json, cells, report.md) to commit it"
    )
    archive.add_argument("run", nargs="?", type=Path, default=results.DEFAULT_RESULTS / "latest")
    archive.add_argument(
        "--to", type=Path, default=None, help="the archive's root (default: docs/runs/)"
    )
    compare = commands.add_parser("compare", help="B against A: ratios per cell with significance")
    compare.add_argument("a", type=Path, help="the baseline run directory")
    compare.add_argument("b", type=Path, help="the run compared with it")
    compare.add_argument(
        "--force", action="store_true", help="compare even when the scenario definitions differ"
    )
    compare.add_argument("--results", type=Path, default=results.DEFAULT_RESULTS)
    return parser


def _where(args: argparse.Namespace) -> dict:
    """RunOptions fields shared by run and soak; checks the target's safety."""
    if args.target:
        host = check_target(args.target, allow_remote=args.allow_remote_host)
        if not is_loopback_host(host):
            console.print(
                f"[bold]note:[/bold] sending load to {host}, which is not this machine: "
                f"{args.target} (--allow-remote-host)"
            )
    return {
        "results_root": args.results,
        "server_cpus": args.server_cpus,
        "loadgen_cpus": args.loadgen_cpus,
        "workers": args.workers,
        "threads": args.threads,
        "switch_accounting": not args.no_switches,
        "ready_timeout": args.ready_timeout,
        "loadgen": Topology(
            workers=args.loadgen_workers,
            remote_workers=args.loadgen_remote_workers,
            master_bind=args.loadgen_master_bind,
            master_port=args.loadgen_master_port,
        ),
        "application": servers.external_application(args.target.rstrip("/"))
        if args.target
        else servers.BUNDLED,
    }


def _site(args: argparse.Namespace) -> site.Site | None:
    """The user's project from --project and its companions, or None."""
    own = {"--settings": args.settings, "--wsgi": args.wsgi, "--asgi": args.asgi}
    own |= {"--path": args.path, "--locustfile": args.locustfile}
    if args.project is None:
        if given := [flag for flag, value in own.items() if value] + (
            ["--allow-debug"] if args.allow_debug else []
        ):
            raise UsageError(f"{', '.join(given)} need --project DIR")
        return None
    bundled_only = {
        "--scenario": args.scenario,
        "--style": args.style,
        "--stack": args.stack,
        "--endpoint": args.endpoint,
        "--target": args.target,
    }
    if given := [flag for flag, value in bundled_only.items() if value]:
        raise UsageError(
            f"{', '.join(given)} cannot be used with --project: your site's views, "
            "middleware and pages are its own (use --path or --locustfile)"
        )
    directory = args.project.resolve()
    settings = args.settings or site.settings_from_manage_py(directory)
    if args.path:
        paths = tuple(site.parse_path(text) for text in args.path)
    else:  # a locustfile brings its own pages
        paths = () if args.locustfile else (("/", 1.0),)
    return site.Site(
        directory=directory,
        settings=settings,
        wsgi=args.wsgi,
        asgi=args.asgi,
        paths=paths,
        locustfile=args.locustfile.resolve() if args.locustfile else None,
        allow_debug=args.allow_debug,
    )


def _run_options(args: argparse.Namespace, argv: Sequence[str]):
    from bench.run.execute import (
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
    your_site = _site(args)
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
        command=["python -m bench", *argv],
        **_where(args),
    )


def _soak_options(args: argparse.Namespace, argv: Sequence[str]):
    from bench.run.execute import RunOptions

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
        **_where(args),
    )


def cmd_run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from bench.run.execute import (
        check_options,
        estimate_seconds,
        execute,
        plan_cells,
        repeat_plan,
        site_warnings,
        with_site,
    )

    options = _run_options(args, argv)
    check_options(options)
    options = with_site(options, probe=not args.dry_run)
    if args.dry_run:
        _, expansion = plan_cells(options)
        for cell in expansion.cells:
            print(cell.id)
        for note in expansion.notes:
            print(f"note: {note}")
        for warning in site_warnings(options, expansion.cells):
            print(f"warning: {warning}")
        minutes = estimate_seconds(options, expansion.cells) / 60
        plan = repeat_plan(options, expansion.cells)
        print(f"{len(expansion.cells)} cells, {plan}: about {minutes:.1f} min")
        return 0
    run_dir = execute(options)
    run = results.read_json(run_dir / "run.json")
    if any(cell["scenario"] == "switches" for cell in run["matrix"]["cells"]):
        show_switches(run_dir, None)
    print_report(run_dir)
    console.print(f"results: {run_dir} ({run['status']})")
    return {"complete": 0, "interrupted": 130}.get(run["status"], 1)


def cmd_list(args: argparse.Namespace, argv: Sequence[str]) -> int:
    print("scenarios:")
    for scenario in scenarios.discover().values():
        endpoints = ", ".join(scenario.endpoints)
        print(f"  {scenario.name:<12} {scenario.summary}")
        print(f"  {'':<12} endpoints: {endpoints}; users {list(scenario.users)}")
    print("servers:")
    for name, spec in servers.SERVERS.items():
        state = "" if spec.available() else "  (not installed: pip install '.[servers]')"
        print(f"  {name:<18} {spec.interface.upper()}  {spec.summary}{state}")
    print("stacks:")
    for name in matrix.STACKS:
        print(f"  {name}")
    return 0


def cmd_calibrate(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from bench.measure import repeat as measure
    from bench.run import calibrate
    from bench.run.execute import RunOptions, base_env

    spec = servers.get(args.server)
    run_dir = results.create_run_dir(args.results, "calibrate")
    settings = measure.Settings(
        warmup=2.0,
        duration=args.duration,
        server_cpus=args.server_cpus,
        loadgen_cpus=args.loadgen_cpus,
        options=servers.ServerOptions(threads=args.threads),
        base_env=base_env(RunOptions()),
    )
    ceiling = calibrate.ceiling(
        run_dir, settings, args.duration, measure.Interrupt(), users=args.users
    )
    if ceiling["ceiling_rps"] is None:
        raise BenchError(f"calibration failed: {ceiling['reason']}")
    print(calibrate.describe(ceiling))
    document = {"schema_version": results.SCHEMA_VERSION, "ceiling": ceiling, "cross_check": None}
    try:
        check = calibrate.cross_check(
            run_dir, settings, server=spec.name, users=args.users, duration=args.duration
        )
    except BenchError as exc:
        print(f"wrk cross-check skipped: {exc}")
    else:
        document["cross_check"] = check
        verdict = "within 10%" if check["within_10_percent"] else "NOT within 10%"
        bound = " (locust was the bottleneck)" if check["locust_bound"] else ""
        print(
            f"{spec.name} /sync/json, {args.users} connections: locust "
            f"{check['locust_rps']:,.0f} req/s, wrk {check['wrk_rps']:,.0f} req/s, "
            f"ratio {check['locust_over_wrk']:.2f}: {verdict}{bound}"
        )
    calibrate.write(run_dir, document)
    print(f"results: {run_dir}")
    return 0


def cmd_microbench(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from bench.run import microbench

    run_dir = microbench.execute(args.results, cpus=args.cpus, quick=args.quick, only=args.only)
    print(f"results: {run_dir}")
    return 0


def show_switches(run_dir: Path, microbench_path: Path | None) -> None:
    """Fit, print and chart the switch cost of a run."""
    from bench.report import switch_report

    run = results.read_run(run_dir)
    microbench_path, microbench = switch_report.load_microbench(run.path.parent, microbench_path)
    analysis = switch_report.analyse(run, microbench)
    print(switch_report.format_report(analysis))
    if microbench_path is None:
        print("(no microbench results yet: run `make microbench` for the first column)")
    else:
        print(f"(microbench: {microbench_path.parent.name})")
    for path in switch_report.write(run, analysis):
        print(f"wrote {path}")


def print_report(run_dir: Path) -> None:
    from bench.report import build, contents

    report = contents.read(run_dir)
    for line in contents.verdict_lines(report):
        print(line)
    build.write(report)
    print(
        f"report: {report.run.path / 'report.html'} (and report.md, charts/; "
        f"built in {report.seconds:.1f} s)"
    )


def cmd_report(args: argparse.Namespace, argv: Sequence[str]) -> int:
    print_report(args.run)
    return 0


def cmd_compare(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from bench.report import compare

    out, text = compare.execute(args.a, args.b, force=args.force, results_root=args.results)
    print(text)
    print(f"comparison: {out}")
    return 0


def cmd_soak(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from bench.run import soak
    from bench.run.execute import check_options, execute, plan_cells

    options = _soak_options(args, argv)
    check_options(options)
    _, expansion = plan_cells(options)
    if len(expansion.cells) != 1:
        raise UsageError(
            f"a soak measures one cell; this selection gives {len(expansion.cells)}: "
            + (", ".join(cell.id for cell in expansion.cells) or "; ".join(expansion.notes))
        )
    run_dir = execute(options)
    analysis = soak.analyse(run_dir)
    soak.write(run_dir, analysis)
    print(soak.format_table(analysis))
    print(f"results: {run_dir}")
    return 0 if analysis["status"] == "ok" else 1


def cmd_archive(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from bench.results.archive import DEFAULT_ARCHIVE, archive

    target = archive(args.run, args.to or DEFAULT_ARCHIVE)
    size = sum(path.stat().st_size for path in target.rglob("*") if path.is_file())
    console.print(f"archived: {target} ({size / 1024:,.0f} KiB)")
    return 0


def cmd_switches(args: argparse.Namespace, argv: Sequence[str]) -> int:
    show_switches(args.run, args.microbench)
    return 0


COMMANDS = {
    "run": cmd_run,
    "list": cmd_list,
    "calibrate": cmd_calibrate,
    "microbench": cmd_microbench,
    "switches": cmd_switches,
    "report": cmd_report,
    "compare": cmd_compare,
    "soak": cmd_soak,
    "archive": cmd_archive,
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args, argv)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    finally:
        processes.stop_all()
