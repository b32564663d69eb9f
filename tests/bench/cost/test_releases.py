"""Releases resolved from the index's answer, and environments reused by their stamp."""

import json
import os

import pytest

from bench.cost import releases
from bench.errors import UsageError

INDEX = """\
django (6.1.3)
Available versions: 6.1.3, 6.1.2, 6.1rc1, 6.0.10, 6.0.9, 5.2.19, 5.2.18, 5.2.9, 5.2, 4.2.30
  INSTALLED: 6.1.3
  LATEST:    6.1.3
"""
AVAILABLE = releases.parse_index(INDEX, "django")


def test_the_index_s_versions_are_read_newest_first():
    assert AVAILABLE[:3] == ["6.1.3", "6.1.2", "6.1rc1"]
    with pytest.raises(releases.ReleaseError, match="no versions of django"):
        releases.parse_index("ERROR: No matching distribution found for django\n", "django")


def test_a_series_is_its_newest_final_release_by_number_not_by_text():
    assert releases.resolve("django", "5.2.x", AVAILABLE).version == "5.2.19"  # not 5.2.9
    assert releases.resolve("django", "6.1", AVAILABLE).version == "6.1.3"  # not 6.1rc1
    assert releases.resolve("django", "6.0.x", AVAILABLE).version == "6.0.10"


def test_an_exact_version_must_be_on_the_index():
    assert releases.resolve("django", "6.1.3", AVAILABLE).requirement == "django==6.1.3"
    with pytest.raises(UsageError, match=r"django 6\.1\.4 is not on the package index"):
        releases.resolve("django", "6.1.4", AVAILABLE)
    with pytest.raises(UsageError, match=r"no django 3\.2\.x release"):
        releases.resolve("django", "3.2.x", AVAILABLE)
    with pytest.raises(UsageError, match="give a series"):
        releases.resolve("django", "latest", AVAILABLE)


def test_a_checkout_is_installed_from_its_path_with_its_own_version(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'Django'\n")
    (tmp_path / "django").mkdir()
    (tmp_path / "django" / "__init__.py").write_text('VERSION = (6, 2, 0, "alpha", 0)\n')
    release = releases.resolve("django", str(tmp_path))
    assert release.path == tmp_path.resolve()
    assert release.version == "6.2.0alpha"
    assert release.requirement == str(tmp_path.resolve())
    with pytest.raises(UsageError, match="not a checkout of django"):
        releases.resolve("django", str(tmp_path / "django"))


def test_the_key_changes_with_any_release_and_an_environment_with_its_stamp_is_reused(
    tmp_path, monkeypatch
):
    django, asgiref = releases.Release("django", "5.2.19"), releases.Release("asgiref", "3.13.0")
    key = releases.key(django, asgiref)
    assert key == releases.key(django, asgiref)
    assert key != releases.key(releases.Release("django", "6.0.10"), asgiref)
    assert key != releases.key(django, releases.Release("asgiref", "3.11.1"))
    directory = tmp_path / key
    (directory / "bin").mkdir(parents=True)
    (directory / "bin" / "python").write_text("")
    (directory / releases.STAMP).write_text(json.dumps({"versions": {"django": "5.2.19"}}))
    built = []

    def run(argv: list[str], what: str) -> str:
        built.append(what)
        (directory / "bin").mkdir(parents=True, exist_ok=True)  # what venv would make
        return '{"django": "5.2.19"}'

    monkeypatch.setattr(releases, "_run", run)
    found = releases.environment(django, asgiref, root=tmp_path)
    assert built == [] and found.versions == {"django": "5.2.19"}
    assert found.label == "django 5.2.19, asgiref 3.13.0"
    os.remove(directory / releases.STAMP)  # a half-built environment is built again
    releases.environment(django, asgiref, root=tmp_path)
    assert built == [
        "creating the environment",
        "installing django 5.2.19 and asgiref 3.13.0",
        "reading the environment's versions",
    ]
    assert (directory / releases.STAMP).exists()  # written last, so reused next time


def test_every_django_is_combined_with_every_asgiref_and_an_unnamed_one_is_the_harness_s(
    monkeypatch,
):
    monkeypatch.setattr(releases, "index_versions", lambda package, python=None: AVAILABLE)
    found = releases.combinations(["5.2.x", "6.1.3"], None)
    assert [(d.version, a.version) for d, a in found] == [
        ("5.2.19", releases.harness_release("asgiref").version),
        ("6.1.3", releases.harness_release("asgiref").version),
    ]
