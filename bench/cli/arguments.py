"""Argument groups and types more than one command shares.

``run`` and ``soak`` both place servers and locust on CPUs and both start
servers the same way; ``calibrate`` and ``microbench`` take CPU lists too.
Each is declared once here so a flag means the same thing everywhere.
"""

import argparse
import os
from pathlib import Path

from bench.plan import matrix, scenarios
from bench.results import store as results
from bench.serve import processes, servers


def cpu_list(text: str) -> frozenset[int]:
    """An argparse type: ``0``, ``0,2`` or ``1-3``; a bad list is argparse's one-line error."""
    try:
        return processes.parse_cpus(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a CPU list: {text!r} (e.g. 0 or 0,2 or 1-3)"
        ) from None


def duration(text: str) -> float:
    """Seconds from '900', '900s', '15m' or '1h' (a time budget)."""
    units = {"s": 1.0, "m": 60.0, "h": 3600.0}
    number, unit = (text[:-1], text[-1]) if text[-1:] in units else (text, "s")
    try:
        seconds = float(number) * units[unit]
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 900s, 15m, 1h)")
    return seconds


def default_cpus() -> tuple[frozenset[int] | None, frozenset[int] | None]:
    """Server on the first CPU, locust on the second; unpinned on a one-CPU machine."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        return None, None
    return frozenset({available[0]}), frozenset({available[1]})


def add_cell_filters(what: argparse._ArgumentGroup) -> None:
    """--server, --style, --stack, --endpoint: the cells ``run`` and ``cost`` narrow to."""
    what.add_argument(
        "--server", nargs="+", metavar="NAME", help=f"servers: {', '.join(servers.SERVERS)}"
    )
    what.add_argument("--style", nargs="+", choices=scenarios.STYLES, help="view styles")
    what.add_argument(
        "--stack", nargs="+", metavar="NAME", help=f"middleware stacks: {', '.join(matrix.STACKS)}"
    )
    what.add_argument("--endpoint", nargs="+", metavar="NAME", help="endpoints of the scenarios")


def add_run_directory(parser: argparse.ArgumentParser) -> None:
    """The run a reading command works on: the newest one unless named."""
    parser.add_argument(
        "run",
        nargs="?",
        type=Path,
        default=results.DEFAULT_RESULTS / "latest",
        help="the run's directory (default: results/latest, the newest run)",
    )


def add_where_arguments(parser: argparse.ArgumentParser) -> None:
    """Where servers and load run: shared by run and soak."""
    server_cpus, loadgen_cpus = default_cpus()
    where = parser.add_argument_group("servers and load generator")
    where.add_argument("--workers", type=int, default=1, help="worker processes per server")
    where.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    where.add_argument(
        "--server-cpus",
        type=cpu_list,
        default=server_cpus,
        help=f"CPUs for the server (default {processes.format_cpus(server_cpus)})",
    )
    where.add_argument(
        "--loadgen-cpus",
        type=cpu_list,
        default=loadgen_cpus,
        help=f"CPUs for locust and the upstream (default {processes.format_cpus(loadgen_cpus)})",
    )
    where.add_argument(
        "--ready-timeout",
        type=float,
        default=30.0,
        help="seconds a server may take to answer its first request",
    )
    _add_loadgen_arguments(where)
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


def _add_loadgen_arguments(where: argparse._ArgumentGroup) -> None:
    """locust's topology: one process, or a master with local and remote workers."""
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


def add_site_arguments(parser: argparse.ArgumentParser) -> None:
    """A user's own Django project in place of the bundled one (run only)."""
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
