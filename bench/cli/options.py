"""From parsed arguments to a run's options: where it runs, and whose site.

``where`` is shared by ``run`` and ``soak``; ``your_site`` is ``run``'s
``--project`` and its companions. Both hold the checks that need more than one
flag at a time (``--target``'s host; ``--project`` with the bundled-only
flags), so a mistake is refused with the same line wherever it is made.
"""

import argparse
from typing import Any

from bench.cli import formatter
from bench.errors import UsageError
from bench.load.loadgen import Topology
from bench.run.progress import console
from bench.serve import servers
from bench.serve.ports import check_target, is_loopback_host
from bench.site import project as site


def where(args: argparse.Namespace) -> dict[str, Any]:
    """RunOptions fields shared by run and soak; checks the target's safety."""
    if args.target:
        host = check_target(args.target, allow_remote=args.allow_remote_host)
        if not is_loopback_host(host):
            console.print(formatter.remote_target(host, args.target))
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


def your_site(args: argparse.Namespace) -> site.Site | None:
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
