"""``djbench`` / ``python -m bench``: parse the arguments, dispatch to the command.

Every error a user can cause is a BenchError, caught here once and printed as
one line (exit 2 for usage, 1 otherwise); never a traceback. Whatever a
command started is stopped on the way out, however it ends.
"""

import sys
from collections.abc import Sequence

from bench.cli.commands import BY_NAME
from bench.cli.parser import build_parser
from bench.errors import BenchError
from bench.serve import processes


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command ``argv`` names (default: the process's arguments); the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
        return BY_NAME[args.command].run_from_args(args, argv)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    finally:
        processes.stop_all()
