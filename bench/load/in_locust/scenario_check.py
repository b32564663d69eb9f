"""Run in a subprocess: import scenario files with locust and check their users.

``python -m bench.load.in_locust.scenario_check '{"path": ["UserClass", ...]}'`` prints one
line and exits 1 at the first file that fails to import or lacks a declared
User class. Kept out of the harness process because importing locust patches
the interpreter with gevent.
"""

import json
import sys
import traceback
from pathlib import Path


def main() -> int:
    from locust.util.load_locustfile import load_locustfile

    wanted: dict[str, list[str]] = json.loads(sys.argv[1])
    for path, classes in wanted.items():
        name = Path(path).name
        try:
            users, _shapes = load_locustfile(path)
        except BaseException as exc:  # a scenario may raise anything, SystemExit included
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            print(
                f"scenario {name} failed to import: {type(exc).__name__}: {exc} "
                f"({Path(frame.filename).name}:{frame.lineno})"
            )
            return 1
        if not users:
            print(f"locustfile {name} defines no locust User class")
            return 1
        missing = [cls for cls in classes if cls and cls not in users]
        if missing:
            print(f"scenario {name}: BENCH names User classes it does not define: {missing}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
