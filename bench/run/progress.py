"""The live progress display: cell n of N, ETA, the current cell's throughput.

rich draws it on a terminal; elsewhere (CI, pipes) one line per finished
measurement is printed instead, so logs stay readable.
"""

import sys
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=False, highlight=False)


class RunProgress:
    """One bar for the whole run; its description names the cell being measured."""

    def __init__(self, total: int) -> None:
        self._live = console.is_terminal
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("elapsed"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            disable=not self._live,
        )
        self._task = self._progress.add_task("starting", total=total)

    def __enter__(self) -> "RunProgress":
        self._progress.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.__exit__(kind, value, tb)

    def begin(self, label: str) -> None:
        self._label = label
        self._progress.update(self._task, description=label)

    def throughput(self, requests: int, seconds: float) -> None:
        self._progress.update(
            self._task, description=f"{self._label}  {requests / seconds:,.0f} req/s"
        )

    def done(self, line: str) -> None:
        self._progress.advance(self._task)
        self.say(line)

    def say(self, line: str) -> None:
        if self._live:
            self._progress.console.print(line)
        else:
            print(line, flush=True)
            sys.stdout.flush()
