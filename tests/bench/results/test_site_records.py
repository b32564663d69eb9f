"""run.json's ``site`` read as records, and written back byte for byte."""

import json
from pathlib import Path

import pytest

from bench import ROOT
from bench.results.records.site import SiteAbout, SiteFacts

RUN_FILES = sorted(
    path
    for root in (ROOT / "tests" / "fixtures" / "runs", ROOT / "docs" / "runs")
    for path in root.glob("*/run.json")
    if json.loads(path.read_text()).get("site")
)


def test_there_are_committed_site_runs_to_check():
    assert len(RUN_FILES) >= 2


@pytest.mark.parametrize("path", RUN_FILES, ids=lambda p: p.parent.name)
def test_a_committed_site_block_reads_back_byte_identical(path: Path):
    about = json.loads(path.read_text())["site"]
    record = SiteAbout.from_json(about)
    assert json.dumps(record.to_json(), indent=1) == json.dumps(about, indent=1)
    facts = record.facts
    assert isinstance(facts, SiteFacts) and facts.probe is not None
    assert [m.path for m in facts.middleware] == [m["path"] for m in about["facts"]["middleware"]]
    assert record.weights == {path: float(weight) for path, weight in about["paths"]}


def test_a_site_whose_settings_fail_keeps_that_one_key():
    failed = SiteFacts.from_json({"settings_error": "ImportError: x"})
    assert failed.to_json() == {"settings_error": "ImportError: x"}
    assert failed.persistent_databases() == {} and failed.signals == {}


def test_persistent_databases_are_those_that_keep_connections():
    facts = SiteFacts.from_json(
        {
            "databases": {
                "default": {"vendor": "postgresql", "conn_max_age": None},
                "closed": {"vendor": "postgresql", "conn_max_age": 0},
                "none": {"vendor": "dummy", "conn_max_age": 60},
                "kept": {"vendor": "sqlite", "conn_max_age": 60},
            }
        }
    )
    assert facts.persistent_databases() == {"default": None, "kept": 60}
