"""``calibrate``: locust's ceiling, and locust against wrk on one server."""

import argparse
from collections.abc import Sequence
from pathlib import Path

from bench.cli import arguments, formatter
from bench.errors import BenchError
from bench.results import store as results
from bench.serve import servers

NAME = "calibrate"
SUMMARY = "locust's ceiling, and locust against wrk on one server"
DESCRIPTION = """\
Is locust measuring the server, or itself? Measures locust's ceiling against
a bare ASGI app (no Django) with --users users, and whether locust itself was
the limit; then, when wrk is installed, locust against wrk on --server with the
sync json view: they should agree within 10%. Writes calibration.json in a
results/<timestamp>-calibrate/ directory."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The server of the wrk check, the load, the pinning."""
    server_cpus, loadgen_cpus = arguments.default_cpus()
    parser.add_argument("--server", default="gunicorn-gthread", help="server for the wrk check")
    parser.add_argument("--users", type=int, default=32, help="locust users = wrk connections")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument(
        "--server-cpus", type=arguments.cpu_list, default=server_cpus, help="CPUs for the server"
    )
    parser.add_argument(
        "--loadgen-cpus", type=arguments.cpu_list, default=loadgen_cpus, help="CPUs for locust"
    )
    parser.add_argument(
        "--results", type=Path, default=results.DEFAULT_RESULTS, help="results root"
    )


def run_from_args(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """The ceiling (a failure is an error), then the wrk cross-check (a skip is not)."""
    from bench.measure import repeat as measure
    from bench.run import calibrate
    from bench.run.options import RunOptions, base_env

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
    found = calibrate.measure_ceiling(
        run_dir, settings, args.duration, measure.Interrupt(), args.users, True
    )
    if found.ceiling_rps is None:
        raise BenchError(f"calibration failed: {found.reason}")
    print(calibrate.describe_ceiling(found))
    document = {
        "schema_version": results.SCHEMA_VERSION,
        "ceiling": found.to_json(),
        "cross_check": None,
    }
    try:
        check = calibrate.cross_check(
            run_dir, settings, server=spec.name, users=args.users, duration=args.duration
        )
    except BenchError as exc:
        print(formatter.cross_check_skipped(exc))
    else:
        document["cross_check"] = check.to_json()
        print(formatter.cross_check(spec.name, args.users, check))
    calibrate.write(run_dir, document)
    print(formatter.results_line(run_dir))
    return 0
