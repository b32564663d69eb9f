from pathlib import Path

import numpy as np
import pytest

from bench.load import loadgen, output

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "locust_run"


def spec(**overrides) -> loadgen.LoadSpec:
    values = dict(
        scenario_path=Path("scenarios/json_cpu.py"),
        user_class="JsonUser",
        users=32,
        style="async",
        host="http://127.0.0.1:8000",
        warmup=2.0,
        duration=15.0,
    )
    values.update(overrides)
    return loadgen.LoadSpec(**values)


def test_locust_command_is_headless_bounded_and_keeps_every_report(tmp_path):
    command = loadgen.locust_command(spec(), tmp_path)
    joined = " ".join(command)
    assert command[1:3] == ["-m", "locust"]
    assert f"-f scenarios/json_cpu.py,{loadgen.PLUGIN}" in joined
    assert "--headless" in command and command[-1] == "JsonUser"
    assert command[command.index("-u") + 1] == command[command.index("-r") + 1] == "32"
    assert command[command.index("--style") + 1] == "async"
    limit = int(command[command.index("-t") + 1].rstrip("s"))
    assert 2 + 15 < limit <= spec().time_limit  # bounded, and past the window's end
    assert float(command[command.index("--stop-timeout") + 1]) > 0  # in-flight requests finish
    assert command[command.index("--json-file") + 1] == str(tmp_path / "locust")
    assert command[command.index("--html") + 1] == str(tmp_path / "locust.html")
    assert command[command.index("--bench-duration") + 1] == "15"


def test_no_style_option_for_locustfiles_without_one(tmp_path):
    assert "--style" not in loadgen.locust_command(spec(style=None), tmp_path)


def test_markers_are_parsed_and_other_lines_ignored():
    assert loadgen.parse_marker("BENCH_WINDOW_START 17.5\n") == ("WINDOW_START", ["17.5"])
    assert loadgen.parse_marker("BENCH_PROGRESS 10 0 1.000") == ("PROGRESS", ["10", "0", "1.000"])
    assert loadgen.parse_marker("Type Name # reqs") is None


def test_exact_samples_are_read_from_the_plugin_files():
    samples = output.read_samples(FIXTURE)
    times = samples.by_name["GET async/json"]
    assert times.shape == (10, 2)
    assert np.isclose(times[:, 1].max(), 12.5) and np.isclose(times[:, 1].min(), 0.33)
    assert samples.window_s == pytest.approx(2.0)
    assert samples.failures == {"GET async/json": 2}
    assert samples.drained == {"GET async/json": 3}
    assert samples.warmup == {"GET async/json": 40}
    assert samples.count() == 10 and samples.roles == ["local"]


def test_locust_totals_come_from_its_json_file():
    totals = output.read_locust_totals(FIXTURE)
    assert totals == {"requests": 15, "failures": 2, "by_name": {"GET async/json": 15}}


def test_missing_output_is_a_clear_error(tmp_path):
    with pytest.raises(output.LoadgenError, match="no samples"):
        output.read_samples(tmp_path)
    with pytest.raises(output.LoadgenError, match=r"locust\.json"):
        output.read_locust_totals(tmp_path)
