"""The code that runs inside locust, imported into the test process unpatched.

Importing locust runs gevent's ``monkey.patch_all()``, which would turn the
test process's sockets, threads and clocks into gevent's. locust skips it when
``LOCUST_SKIP_MONKEY_PATCH`` is set, so the plugin and the open-loop sender can
be imported here and driven with gevent's own primitives (its queue, sleep and
greenlets work unpatched). The variable is set only for the import: servers and
locust processes started later by other tests must not inherit it.
"""

import importlib
import os
import sys
from types import ModuleType


def load(name: str) -> ModuleType:
    """Import ``name`` (a module that imports locust) without monkey-patching."""
    if "locust" not in sys.modules:
        previous = os.environ.get("LOCUST_SKIP_MONKEY_PATCH")
        os.environ["LOCUST_SKIP_MONKEY_PATCH"] = "1"
        try:
            importlib.import_module("locust")
        finally:
            if previous is None:
                del os.environ["LOCUST_SKIP_MONKEY_PATCH"]
            else:
                os.environ["LOCUST_SKIP_MONKEY_PATCH"] = previous
    from gevent import monkey

    if monkey.is_module_patched("socket"):
        raise RuntimeError("locust was imported with monkey-patching before this helper")
    return importlib.import_module(name)
