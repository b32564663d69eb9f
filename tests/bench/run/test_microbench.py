"""The microbenchmark: its functions run, and its summary derives per-switch costs."""

import json

import pyperf
import pytest

from bench.cli import formatter
from bench.results.records.microbench import MicrobenchSummary
from bench.run import microbench
from project import microbench as suite


@pytest.mark.parametrize("name", list(suite.BENCHMARKS))
def test_every_benchmark_function_runs_and_times_something(name):
    function, args = suite.BENCHMARKS[name]
    for clock in suite.CLOCKS.values():
        assert function(3, clock, *args) >= 0


def _benchmark(name: str, seconds: list[float]) -> pyperf.Benchmark:
    run = pyperf.Run(
        seconds,
        warmups=[(1, seconds[0])],
        metadata={"name": name, "loops": 1},
        collect_metadata=False,
    )
    return pyperf.Benchmark([run])


def test_summary_subtracts_the_floor_and_states_the_accounting_overhead(tmp_path):
    means = {
        "plain_call": 0.1e-6,
        "plain_await": 0.5e-6,
        "s2a_warm_thread_sensitive": 100.5e-6,
        "s2a_warm_not_thread_sensitive": 80.5e-6,
        "s2a_new_context": 500.5e-6,
        "a2s_warm": 60.1e-6,
        "a2s_cold_new_loop": 700.1e-6,
        "asgi_request_django_stack": 2000e-6,
        "asgi_request_django_stack_accounting": 2040e-6,
        "wsgi_request_django_stack": 150e-6,
        "wsgi_request_django_stack_accounting": 151.5e-6,
    }
    benchmarks = []
    for name, mean in means.items():
        for clock in ("wall", "cpu"):
            benchmarks.append(_benchmark(f"{name}:{clock}", [mean * 0.99, mean * 1.01]))
    path = tmp_path / "suite.json"
    pyperf.BenchmarkSuite(benchmarks).dump(str(path))
    summary = microbench.summarise(path)
    per_switch = summary.per_switch
    warm = per_switch["sync_to_async, warm context, thread_sensitive=True"].cpu
    assert warm.mean_us == pytest.approx(100.0)
    cold = per_switch["async_to_sync with a new event loop (cold)"].wall
    assert cold.mean_us == pytest.approx(700.0)
    assert summary.accounting_overhead.asgi.overhead_pct == pytest.approx(2.0)
    assert summary.accounting_overhead.wsgi.overhead_pct == pytest.approx(1.0)
    table = formatter.microbench_table(summary)
    assert "per switch" in table and "+2.0%" in table
    # summary.json's keys: the figures measured, in the order they were made
    data = summary.to_json()
    assert list(data) == [
        "schema_version", "benchmarks", "per_switch", "accounting_overhead", "metadata"
    ]  # fmt: skip
    assert list(data["accounting_overhead"]) == ["asgi", "wsgi"]
    assert list(data["benchmarks"]["plain_call"]) == ["wall", "cpu"]
    assert list(data["benchmarks"]["plain_call"]["cpu"]) == ["mean_us", "stdev_us"]
    text = json.dumps(data)
    assert json.dumps(MicrobenchSummary.from_json(json.loads(text)).to_json()) == text


def test_the_pinned_and_unpinned_hop_give_their_ratio(tmp_path):
    """70 µs pinned, 210 µs unpinned (each less a 0.5 µs await): x3.00 on both clocks."""
    means = {"plain_await": 0.5e-6, "sync_to_async_pinned": 70.5e-6}
    means["sync_to_async_unpinned"] = 210.5e-6
    benchmarks = [
        _benchmark(f"{name}:{clock}", [mean * 0.99, mean * 1.01])
        for name, mean in means.items()
        for clock in ("wall", "cpu")
    ]
    path = tmp_path / "suite.json"
    pyperf.BenchmarkSuite(benchmarks).dump(str(path))
    summary = microbench.summarise(path)
    pinning = summary.pinning
    assert pinning.pinned.wall.mean_us == pytest.approx(70.0)
    assert pinning.unpinned.cpu.mean_us == pytest.approx(210.0)
    assert pinning.wall_ratio == pytest.approx(3.0) and pinning.cpu_ratio == pytest.approx(3.0)
    assert "(x3.00)" in formatter.microbench_table(summary)
    data = summary.to_json()
    assert list(data)[-1] == "pinning"
    text = json.dumps(data)
    assert json.dumps(MicrobenchSummary.from_json(json.loads(text)).to_json()) == text


def test_the_pinned_hop_runs_on_one_cpu_and_restores_the_affinity():
    import os

    before = os.sched_getaffinity(0)
    seen = []
    with suite._affinity(True):
        seen.append(os.sched_getaffinity(0))
    assert seen == [{min(before)}] and os.sched_getaffinity(0) == before
