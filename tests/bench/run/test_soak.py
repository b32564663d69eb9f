"""The soak's per-minute figures and flags, on synthetic samples."""

import json

import numpy as np
import pytest

from bench.results.records import RepeatRecord
from bench.results.records.soak import SoakDocument, SoakMinute
from bench.run import soak


def _write_run(tmp_path, window: float, rss: list[tuple[float, float]], failures: list[float]):
    raw = tmp_path / "raw"
    samples = raw / "samples"
    samples.mkdir(parents=True)
    times = np.arange(0, window, 0.01)
    pairs = np.column_stack([times, np.where(times < 60, 1.0, 2.0)])
    pairs.astype(np.float64).tofile(samples / "local-0.f64")
    np.array(failures, dtype=np.float64).tofile(samples / "local-failures.f64")
    (samples / "local.json").write_text(
        json.dumps(
            {
                "role": "local",
                "window_start": 1.0,
                "window_end": 1.0 + window,
                "sample_files": {"GET x": "local-0.f64"},
                "failure_file": "local-failures.f64",
                "failures": {},
                "errors": {},
                "warmup": {},
                "drained": {},
                "drained_failures": {},
            }
        )
    )
    return RepeatRecord.from_json(
        {
            "raw_dir": str(raw),
            "primary": "GET x",
            "window_s": window,
            "server": {"rss_timeline_mb": [list(point) for point in rss]},
        }
    )


def test_minutes_throughput_p99_errors_and_rss(tmp_path):
    repeat = _write_run(tmp_path, 180.0004, [(10, 50.0), (70, 51.0), (170, 52.0)], [61.0, 62.0])
    minutes = soak.per_minute(repeat)
    assert [m.minute for m in minutes] == [1, 2, 3]  # no empty 4th minute for 0.4 ms
    assert minutes[0].throughput_rps == pytest.approx(100.0)
    assert minutes[0].p99_ms == pytest.approx(1.0) and minutes[1].p99_ms == pytest.approx(2.0)
    assert [m.errors for m in minutes] == [0, 2, 0]
    assert [m.rss_peak_mb for m in minutes] == [50.0, 51.0, 52.0]


def test_flags_rss_growth_and_rising_errors():
    steady = [SoakMinute(rss_peak_mb=100.0, errors=0), SoakMinute(rss_peak_mb=105.0, errors=0)]
    assert soak.flags(steady) == (pytest.approx(5.0), [])
    growing = [SoakMinute(rss_peak_mb=100.0 + 5 * i, errors=3 * i) for i in range(6)]
    growth, found = soak.flags(growing)
    assert growth == pytest.approx(25.0)
    assert any("RSS grew 25.0%" in flag for flag in found)
    assert any("errors rise by 3.0 per minute" in flag for flag in found)


def test_soak_json_keeps_its_keys_in_order_either_way():
    failed = {"schema_version": 1, "cell": "c", "status": "failed", "reason": "x", "minutes": []}
    assert json.dumps(SoakDocument.from_json(failed).to_json()) == json.dumps(failed)
    built = SoakDocument(cell="c", minutes=[SoakMinute(minute=1)], json_keys=SoakDocument.MEASURED)
    data = built.to_json()
    assert list(data) == list(SoakDocument.MEASURED)
    assert list(data["minutes"][0]) == [
        "minute", "seconds", "throughput_rps", "p99_ms", "errors", "rss_peak_mb"
    ]  # fmt: skip
    assert json.dumps(SoakDocument.from_json(data).to_json()) == json.dumps(data)
