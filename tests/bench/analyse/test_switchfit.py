"""The end-to-end fit must recover slopes it is given, and say when it cannot."""

import numpy as np
import pytest

from bench.analyse import switchfit
from bench.analyse.switchfit import Point

TRUE = {"sync_to_async": 0.060, "async_to_sync_warm": 0.150, "async_to_sync_new_loop": 0.700}
FIXED = {"uvicorn/json/u1": 0.55, "uvicorn/db/u1": 0.90, "gunicorn-gthread/json/u1": 0.30}


def synthetic(noise_ms: float, seed: int = 1) -> list[Point]:
    rng = np.random.default_rng(seed)
    points = []
    hops = {
        "uvicorn": [(2, 0, 0), (3, 0, 0), (15, 0, 0), (16, 0, 0), (4, 1, 0), (3, 1, 0)],
        "gunicorn-gthread": [(0, 0, 0), (0, 0, 1), (1, 1, 1), (2, 2, 1), (2, 1, 1), (0, 0, 0)],
    }
    for group, fixed in FIXED.items():
        server = group.split("/")[0]
        for repeat in range(3):
            for s2a, warm, new in hops[server]:
                cpu = fixed + TRUE["sync_to_async"] * s2a + TRUE["async_to_sync_warm"] * warm
                cpu += TRUE["async_to_sync_new_loop"] * new + rng.normal(0, noise_ms)
                points.append(
                    Point(f"{group}-{s2a}-{warm}-{new}", repeat + 1, group, cpu, s2a, warm, new)
                )
    return points


def test_exact_data_gives_exact_slopes_and_fixed_costs():
    fit = switchfit.fit(synthetic(noise_ms=0.0))
    for name, value in TRUE.items():
        assert fit.slopes_us[name]["us_per_switch"] == pytest.approx(value * 1000, abs=1e-6)
    for group, fixed in FIXED.items():
        assert fit.fixed_ms[group] == pytest.approx(fixed, abs=1e-9)
    assert fit.r_squared == pytest.approx(1.0)


def test_noisy_data_recovers_the_slopes_within_their_intervals():
    fit = switchfit.fit(synthetic(noise_ms=0.02))
    for name, value in TRUE.items():
        slope = fit.slopes_us[name]
        assert abs(slope["us_per_switch"] - value * 1000) < 4 * slope["stderr_us"], (name, slope)
        assert slope["stderr_us"] > 0
    assert 0.9 < fit.r_squared < 1.0


def test_the_95_percent_intervals_cover_the_true_slope_95_percent_of_the_time():
    trials = 300
    covered = dict.fromkeys(TRUE, 0)
    for seed in range(trials):
        fit = switchfit.fit(synthetic(noise_ms=0.02, seed=seed))
        for name, value in TRUE.items():
            slope = fit.slopes_us[name]
            covered[name] += slope["ci_low_us"] <= value * 1000 <= slope["ci_high_us"]
    for name, hits in covered.items():
        assert 0.90 <= hits / trials <= 0.99, (name, hits / trials)
    # Residuals are kept, worst first, for the report to show.
    sizes = [abs(r.residual_ms) for r in fit.residuals]
    assert sizes == sorted(sizes, reverse=True) and len(sizes) == fit.n


def test_a_bad_point_is_reported_not_hidden():
    points = synthetic(noise_ms=0.005)
    bad = points[5]
    points[5] = Point(
        bad.cell_id,
        bad.repeat,
        bad.group,
        bad.cpu_ms + 2.0,
        bad.sync_to_async,
        bad.async_to_sync_warm,
        bad.async_to_sync_new_loop,
    )
    fit = switchfit.fit(points)
    assert fit.residuals[0].cell_id == bad.cell_id and fit.residuals[0].outlier


def test_switch_kinds_that_never_happen_are_dropped():
    points = [
        p for p in synthetic(0.0) if p.async_to_sync_new_loop == 0 and p.async_to_sync_warm == 0
    ]
    fit = switchfit.fit(points)
    assert set(fit.slopes_us) == {"sync_to_async"}
    assert fit.dropped == ["async_to_sync_warm", "async_to_sync_new_loop"]


def test_too_few_points_are_said_plainly():
    assert switchfit.fit([]).note == "no points with switch counts"
    one = synthetic(0.0)[:2]
    assert "cannot identify" in switchfit.fit(one).note


def _cell(users, repeats):
    return {
        "cell": {
            "scenario": "switches",
            "endpoint": "json",
            "server": "uvicorn",
            "style": "async",
            "stack": "none",
            "users": users,
        },
        "repeats": repeats,
    }


def _repeat(cpu, s2a, a2s, new=0.0, wall=None, status="ok"):
    return {
        "repeat": 1,
        "status": status,
        "server": {"cpu_ms_per_request": cpu},
        "loadgen": {"bound": False},
        "switches": {
            "sync_to_async_per_request": s2a,
            "async_to_sync_per_request": a2s,
            "async_to_sync_new_loop_per_request": new,
            "sync_to_async": 100,
            "async_to_sync": 0,
            "sync_to_async_wall_outside_us": wall,
            "async_to_sync_wall_outside_us": None,
        },
    }


def test_points_come_from_successful_repeats_with_counts():
    cells = [_cell(1, [_repeat(1.0, 2, 1, new=0.25), _repeat(9.0, 2, 0, status="failed")])]
    (point,) = switchfit.points_from_cells(cells)
    assert point.group == "uvicorn/json/u1"
    assert (point.async_to_sync_warm, point.async_to_sync_new_loop) == (0.75, 0.25)


def test_in_request_wall_times_come_from_light_cells_only():
    cells = [
        _cell(1, [_repeat(1.0, 2, 0, wall=80.0)]),
        _cell(32, [_repeat(1.0, 2, 0, wall=9000.0)]),
    ]
    wall = switchfit.accounting_wall_us(cells, max_users=1)
    assert wall["sync_to_async"].mean_us == 80.0 and wall["async_to_sync"] is None
