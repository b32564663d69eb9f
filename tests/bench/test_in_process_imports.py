"""Code that runs in another process imports only what its package docstring allows.

locust, a server serving a user's project, and an inspection subprocess in a
user's environment have only their own dependencies: an import of the
harness's there fails at run time, far from the edit that caused it.
"""

import ast
import sys
from pathlib import Path

import pytest

from bench import ROOT

# package -> (third-party top-level modules, harness modules) its docstring allows
ALLOWED: dict[str, tuple[set[str], set[str]]] = {
    "bench/load/in_locust": ({"locust", "gevent"}, {"bench.load.schedule", "bench.load.in_locust"}),
    "bench/site/in_locust": ({"locust"}, set()),
    "bench/site/in_server": ({"django"}, {"bench.site.in_server"}),
    "bench/site/in_site": ({"django", "asgiref"}, {"bench.site.in_site"}),
}


def imported(path: Path) -> set[str]:
    """Every module (or name of one) ``path`` imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            # ``from bench.load import schedule`` imports bench.load.schedule
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def refused(name: str, third_party: set[str], harness: set[str]) -> bool:
    top = name.partition(".")[0]
    if top in sys.stdlib_module_names or top in third_party:
        return False
    return not any(name == allowed or name.startswith(allowed + ".") for allowed in harness)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_module_imports_only_what_its_package_allows(package):
    third_party, harness = ALLOWED[package]
    modules = sorted((ROOT / package).glob("*.py"))
    assert modules
    bad = {
        str(path.relative_to(ROOT)): sorted(
            name for name in imported(path) if refused(name, third_party, harness)
        )
        for path in modules
    }
    assert {path: names for path, names in bad.items() if names} == {}


def test_the_check_refuses_an_import_of_the_harness():
    assert refused("bench", {"django"}, {"bench.site.in_server"})
    assert refused("bench.serve.ports", {"locust"}, {"bench.load.schedule"})
    assert refused("numpy", {"django"}, set())
    assert not refused("bench.site.in_site.probe", {"django"}, {"bench.site.in_site"})
    assert not refused("json", set(), set())
