import textwrap

import pytest

from bench.errors import UsageError
from bench.plan import scenarios


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


GOOD = '''
    """demo: what it measures."""
    from _support import BenchUser

    class Base(BenchUser):
        endpoint = "json"

    class Child(Base):
        pass

    BENCH = {"endpoints": {"one": "Child"}, "users": [4]}
'''


def test_the_shipped_scenarios_are_discovered_with_their_declarations():
    found = scenarios.discover()
    assert {"json", "db", "io", "upstream", "stream", "middleware", "disconnect"} <= set(found)
    io = found["io"]
    assert io.users == (10, 50, 200, 500)
    assert io.path_of("io50") == "io?ms=50"
    assert found["db"].database and found["upstream"].upstream and found["disconnect"].accounting
    for scenario in found.values():
        assert scenario.summary and scenario.sha256
        assert set(scenario.endpoints.values()) <= set(scenario.paths)


def test_a_scenario_is_read_without_importing_it(tmp_path):
    scenario = scenarios.load(write(tmp_path, "demo_scenario.py", GOOD))
    assert scenario.name == "demo_scenario"
    assert scenario.endpoints == {"one": "Child"}
    assert scenario.path_of("one") == "json"  # inherited from Base
    assert scenario.styles == ("sync", "async") and scenario.users == (4,)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("BENCH = {'endpoints': {'a': 'A'}}\n", "docstring"),
        ('"""doc"""\nBENCH = dict(endpoints={})\n', "literal dict"),
        ('"""doc"""\nX = 1\n', "no BENCH"),
        ('"""doc"""\nBENCH = {"endpoints": {}}\n', "endpoints"),
        ('"""doc"""\nBENCH = {"endpoints": {"a": "A"}, "colour": 1}\n', "unknown BENCH keys"),
        ('"""doc"""\nBENCH = {"endpoints": {"a": "A"}, "styles": ["both"]}\n', "unknown styles"),
        ('"""doc"""\nBENCH = {"endpoints": {"a": "A"}, "users": [0]}\n', ">= 1"),
        ('"""doc"""\ndef broken(:\n', "syntax error on line 2"),
    ],
)
def test_bad_scenario_files_are_refused_naming_the_file(tmp_path, text, message):
    path = tmp_path / "bad_scenario.py"
    path.write_text(text)
    with pytest.raises(scenarios.ScenarioError, match=message) as info:
        scenarios.load(path)
    assert "bad_scenario.py" in str(info.value)


def test_a_file_that_would_shadow_a_module_is_refused(tmp_path):
    with pytest.raises(scenarios.ScenarioError, match="shadows the module 'json'"):
        scenarios.load(write(tmp_path, "json.py", GOOD))


def test_unknown_scenario_names_list_the_valid_ones():
    with pytest.raises(UsageError, match=r"valid scenarios: .*json"):
        scenarios.select(scenarios.discover(), ["nope"])


def test_import_failures_are_one_line_naming_the_file(tmp_path):
    support = scenarios.SCENARIO_DIR / "_support.py"
    (tmp_path / "_support.py").write_text(support.read_text())
    ok = scenarios.load(write(tmp_path, "demo_ok.py", GOOD))
    scenarios.check_importable([ok])
    broken = write(
        tmp_path,
        "demo_broken.py",
        GOOD.replace("from _support", "import nosuchmodule\n    from _support"),
    )
    with pytest.raises(
        scenarios.ScenarioError, match=r"demo_broken\.py failed to import: ModuleNotFoundError"
    ):
        scenarios.check_importable([scenarios.load(broken)])
    missing = write(tmp_path, "demo_missing.py", GOOD.replace('"Child"', '"Ghost"'))
    with pytest.raises(scenarios.ScenarioError, match="does not define: \\['Ghost'\\]"):
        scenarios.check_importable([scenarios.load(missing)])
