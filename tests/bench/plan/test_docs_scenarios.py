"""The scenarios of the async documentation's claims about views: decorators,
view forms and sync_to_async's thread sensitivity.

Their endpoints are read from the files as text, so a typo in a path would
only show when a server answers 404 to the primer; these tests hold each path
against the project's URL table instead.
"""

import subprocess
import sys

import pytest
from django.urls import Resolver404, resolve

from bench import ROOT
from bench.plan import matrix, scenarios
from project.urls import WORKLOADS
from project.workloads import decorated

DOCS = ("decorators", "view_forms", "thread_sensitivity")

# The cells `python -m bench run --scenario docs` measures from these files.
DEFAULT_CELLS = {
    "decorators.baseline.uvicorn.async.none.u32",
    "decorators.gzip_page.uvicorn.async.none.u32",
    "decorators.csrf_protect.uvicorn.async.none.u32",
    "view_forms.json.uvicorn.async.none.u32",
    "view_forms.json-cbv.uvicorn.async.none.u32",
    "view_forms.json-callable.uvicorn.async.none.u32",
    "thread_sensitivity.bridge-ts.uvicorn.async.none.u256.sqlite",
    "thread_sensitivity.bridge-nts.uvicorn.async.none.u256.sqlite",
}


@pytest.fixture(scope="module")
def docs():
    found = scenarios.discover()
    return {name: found[name] for name in DOCS}


def test_the_three_files_are_discovered_in_the_docs_group_only(docs):
    for scenario in docs.values():
        assert scenario.groups == ("docs",), scenario.name
        assert scenario.summary.startswith(f"{scenario.name}: ")
    chosen = {s.name for s in scenarios.select(scenarios.discover(), ["docs"])}
    assert set(DOCS) <= chosen
    assert not set(DOCS) & {s.name for s in scenarios.select(scenarios.discover(), None)}


@pytest.mark.parametrize("name", DOCS)
def test_every_endpoint_is_served_in_every_declared_style(docs, name):
    scenario = docs[name]
    for endpoint in scenario.endpoints:
        path = scenario.path_of(endpoint)
        assert path is not None, f"{name}/{endpoint}: no literal endpoint path"
        workload = path.split("?", 1)[0]
        assert workload in WORKLOADS, f"{name}/{endpoint}: {workload!r} is not in WORKLOADS"
        views = dict(zip(("sync", "async"), WORKLOADS[workload], strict=True))
        for style in scenario.styles:
            assert views[style] is not None, f"{name}/{endpoint}: no {style} view"
            try:
                resolve(f"/{style}/{workload}")
            except Resolver404:
                pytest.fail(f"{name}/{endpoint}: /{style}/{workload} does not resolve")


def test_the_decorators_scenario_covers_every_decorator_the_project_serves(docs):
    scenario = docs["decorators"]
    covered = {scenario.path_of(e).removeprefix("deco/") for e in scenario.endpoints}
    assert scenario.path_of("baseline") == "json"
    # require_POST answers a GET with 405, and the primer accepts only a 200.
    assert set(decorated.DECORATORS) - covered == {"require_POST"}
    for endpoint in scenario.endpoints:
        if endpoint != "baseline":
            assert scenario.path_of(endpoint) == f"deco/{endpoint}"


def test_the_bridges_are_async_only(docs):
    assert docs["thread_sensitivity"].styles == ("async",)
    assert docs["thread_sensitivity"].database


def test_the_default_cells_and_the_full_matrix(docs):
    default = matrix.expand(docs.values(), matrix.Selection())
    assert {cell.id for cell in default.cells} == DEFAULT_CELLS
    full = matrix.expand(docs.values(), matrix.Selection(full=True))
    assert DEFAULT_CELLS < {cell.id for cell in full.cells}
    by_scenario = {name: sum(c.scenario == name for c in full.cells) for name in DOCS}
    assert by_scenario == {"decorators": 92, "view_forms": 12, "thread_sensitivity": 4}


def test_the_files_import_under_locust(docs):
    scenarios.check_importable(list(docs.values()))


def test_the_docs_group_dry_run_lists_the_cells_and_the_time():
    result = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--scenario", "docs", "--dry-run"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    listed = set(result.stdout.split())
    assert DEFAULT_CELLS <= listed
    assert " cells, 9 repeats each: about " in result.stdout
