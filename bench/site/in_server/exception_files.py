"""The exception behind each failing path, from the server to the harness.

A site served with DEBUG off logs nothing of an HTTP 500 (Django's default
logging prints ``django.request`` errors only with DEBUG on), so the server log
of a cell that failed a quarter of its requests is empty. Django still sends
``got_request_exception`` for every such request: the wrapper application
(``bench.site.in_server.app``) listens and keeps, per path, the first exception, in a
small JSON file per server process in the directory named by
``BENCH_EXCEPTIONS_DIR``. The harness reads them after the server stopped. How
many requests failed is locust's count, not this file's.

The file stays small whatever the load: at most ``MAX_PATHS`` paths, each with
one line of at most ``LINE_LIMIT`` characters, rewritten only when a path fails
for the first time, so a failing site does no extra work per failure after that.
"""

import json
import os
import threading
from pathlib import Path

ENV = "BENCH_EXCEPTIONS_DIR"
MAX_PATHS = 20
LINE_LIMIT = 400
_PREFIX = "exceptions-"


def one_line(exc: BaseException) -> str:
    """``module.Type: message`` on one line, cut to ``LINE_LIMIT`` characters."""
    kind = type(exc)
    name = kind.__qualname__
    if kind.__module__ != "builtins":
        name = f"{kind.__module__}.{name}"
    text = " ".join(str(exc).split())
    line = f"{name}: {text}" if text else name
    return line if len(line) <= LINE_LIMIT else line[: LINE_LIMIT - 3] + "..."


class Recorder:
    """One server process's record; ``record`` is called from any request thread."""

    def __init__(self, directory: Path, pid: int | None = None) -> None:
        self.path = directory / f"{_PREFIX}{pid or os.getpid()}.json"
        self.paths: dict[str, str] = {}  # path -> "module.Type: message" of its first
        self.lock = threading.Lock()

    def record(self, path: str, exc: BaseException) -> None:
        with self.lock:
            if path in self.paths or len(self.paths) >= MAX_PATHS:
                return
            self.paths[path] = one_line(exc)
            self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.paths))
        os.replace(temporary, self.path)


def read(directory: Path) -> dict[str, str]:
    """Per path, the first exception a server process recorded (files in name
    order), at most ``MAX_PATHS`` paths; empty when none was, or no directory."""
    found: dict[str, str] = {}
    for file in sorted(directory.glob(f"{_PREFIX}*.json")):
        try:
            paths = json.loads(file.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(paths, dict):
            continue
        for path, line in paths.items():
            if len(found) < MAX_PATHS or path in found:
                found.setdefault(str(path), str(line)[:LINE_LIMIT])
    return found
