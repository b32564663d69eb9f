"""The one exception type for errors a user can cause.

``bench.cli.main.main`` catches it, prints its message as one line and exits with
its code: no traceback for a bad flag, a busy port or a corrupt result.
"""


class BenchError(Exception):
    """An error the user can act on; ``str()`` is the whole message."""

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class UsageError(BenchError):
    """A bad choice on the command line (unknown scenario, server, flag...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=2)
