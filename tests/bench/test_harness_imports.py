"""The harness never imports Django, and code that runs elsewhere brings only its own.

Servers, locust and the harness are separate processes: the harness cannot bend
what it measures only while it never imports Django, the user's project, nor
locust and gevent (whose monkey-patching would change its own clocks). Each
module is imported for real in a fresh interpreter, so an import buried three
modules down, or inside a package ``__init__``, counts as much as one at the top
of a file. (``test_in_process_imports`` reads the in_* files' own import
statements; this reads what importing them really loads.)
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bench import ROOT

IN_PROCESS = ("in_locust", "in_server", "in_site")
# Top-level modules the harness process must never hold.
FORBIDDEN_IN_HARNESS = ("django", "asgiref", "project", "usersite", "locust", "gevent")

# What importing modules loads that a bare interpreter had not, and for each
# module newly loaded, the first file under argv[1] that imported it.
_PROBE = textwrap.dedent(
    """
    import importlib, json, sys

    ROOT = sys.argv[1]  # the files under it are named as importers
    before = set(sys.modules)
    first_importer = {}

    class Watch:
        def find_spec(self, name, path=None, target=None):
            if name not in first_importer:
                frame = sys._getframe(1)
                while frame is not None and not frame.f_code.co_filename.startswith(ROOT):
                    frame = frame.f_back
                first_importer[name] = frame.f_code.co_filename if frame else "?"
            return None

    sys.meta_path.insert(0, Watch())
    for name in sys.argv[2:]:
        importlib.import_module(name)
    loaded = sorted(set(sys.modules) - before)
    print(json.dumps({"loaded": loaded, "first_importer": first_importer}))
    """
)


def modules_under(package: Path) -> list[str]:
    """Dotted names of every module in ``package``, a directory of the checkout."""
    return sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in package.rglob("*.py")
    )


def harness_modules() -> list[str]:
    """Every module under bench/ that runs in the harness: all but the in_* packages."""
    return [
        name
        for name in modules_under(ROOT / "bench")
        if not any(part in IN_PROCESS for part in name.split("."))
    ]


def imported_by(modules: list[str]) -> tuple[set[str], dict[str, str]]:
    """(every module loaded, and the file that first imported each)
    when a fresh interpreter imports ``modules``, with the tests' environment."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(ROOT / "bench"), *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    found = json.loads(result.stdout.splitlines()[-1])
    named = {name: _relative(path) for name, path in found["first_importer"].items()}
    return set(found["loaded"]), named


def _relative(path: str) -> str:
    return str(Path(path).relative_to(ROOT)) if path.startswith(str(ROOT)) else path


def tops(modules: set[str]) -> set[str]:
    return {name.partition(".")[0] for name in modules}


def test_the_list_of_harness_modules_is_the_whole_harness():
    names = harness_modules()
    # a package per stage, each with its modules, and none of the in_* code
    for expected in ("bench.cli.main", "bench.analyse.stats", "bench.run.calibrate"):
        assert expected in names
    assert "bench.site.in_server.app" not in names
    assert "bench.load.in_locust.plugin" not in names
    assert len(names) > 50


def test_the_harness_never_imports_django_the_project_nor_locust():
    loaded, first_importer = imported_by(harness_modules())
    held = {top: first_importer.get(top) for top in tops(loaded) & set(FORBIDDEN_IN_HARNESS)}
    assert held == {}, f"imported into the harness (module: first file to import it): {held}"
    assert "bench.cli.main" in loaded  # the probe really imported the harness


def test_the_probe_names_the_file_that_brings_django_in(tmp_path):
    """The check above can fail: a module that imports Django is caught and named."""
    bad = tmp_path / "bench_probe_bad.py"
    bad.write_text("import django.conf\n")
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(tmp_path), "bench.numbers", "bench_probe_bad"],
        cwd=tmp_path,
        env={"PYTHONPATH": f"{ROOT}:{tmp_path}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = json.loads(result.stdout.splitlines()[-1])
    assert "django" in tops(set(found["loaded"]))
    assert found["first_importer"]["django"] == str(bad)


# What each in_* package's docstring allows it to load, beyond the standard library:
# (harness modules, third-party top-level modules). Django brings its own
# dependencies (asgiref, sqlparse); locust brings many, so inside locust only the
# harness modules it loads are held to the list.
ALLOWED = {
    "bench/load/in_locust": ({"bench", "bench.load", "bench.load.schedule"}, None),
    "bench/site/in_locust": ({"bench", "bench.site"}, None),
    "bench/site/in_server": ({"bench", "bench.site"}, {"django", "asgiref", "sqlparse"}),
    "bench/site/in_site": ({"bench", "bench.site"}, {"django", "asgiref", "sqlparse"}),
}
# Whatever locust loads, it never needs the harness's analysis or Django.
NEVER_IN_LOCUST = {"django", "numpy", "scipy", "matplotlib", "project"}


def _outside_allowance(package: str, loaded: set[str]) -> set[str]:
    harness, third_party = ALLOWED[package]
    own = ".".join(Path(package).parts)
    wrong = {
        name
        for name in loaded
        if name.partition(".")[0] == "bench"
        and name not in harness
        and not (name == own or name.startswith(own + "."))
    }
    if third_party is None:
        return wrong | (tops(loaded) & NEVER_IN_LOCUST)
    others = tops(loaded) - set(sys.stdlib_module_names) - third_party - {"bench"}
    # private C modules of the standard library (_socket, _ssl) are not in the list
    return wrong | {name for name in others if not name.startswith("_")}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_in_process_module_loads_only_what_its_package_allows(package):
    # one interpreter for the package: what one module loads, the union holds
    loaded, first_importer = imported_by(modules_under(ROOT / package))
    wrong = _outside_allowance(package, loaded)
    named = {name: first_importer.get(name) for name in sorted(wrong)}
    assert not wrong, f"{package} loads (module: first file to import it) {named}"


def test_the_allowance_refuses_a_harness_module_or_a_stranger():
    assert _outside_allowance("bench/site/in_server", {"bench.serve.ports", "bench"}) == {
        "bench.serve.ports"
    }
    assert _outside_allowance("bench/site/in_site", {"django.db", "numpy"}) == {"numpy"}
    assert _outside_allowance("bench/load/in_locust", {"gevent", "scipy.stats"}) == {"scipy"}
    assert _outside_allowance("bench/load/in_locust", {"bench.load.schedule", "locust"}) == set()
