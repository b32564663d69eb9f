import pytest

from project.workloads import params


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, 1),
        ("", 1),
        ("abc", 1),
        ("1.5", 1),
        ("0x10", 1),
        ("  7 ", 7),
        ("0", 1),
        ("-3", 1),
        ("1", 1),
        ("500", 500),
        ("501", 500),
        ("99999999999999999999", 500),
    ],
)
def test_count_is_clamped_and_non_integers_mean_the_default(raw, expected):
    assert params.COUNT.clamp(raw) == expected


@pytest.mark.parametrize(
    ("bounds", "raw", "expected"),
    [
        (params.IO_MS, "-1", 0),
        (params.IO_MS, "20000", 10_000),
        (params.IO_MS, "x", 50),
        (params.CHUNKS, "0", 1),
        (params.CHUNKS, "5000", 1000),
        (params.CHUNKS, None, 10),
        (params.UPSTREAM_MS, "10001", 10_000),
        (params.BURN_MS, None, 5),
        (params.BURN_MS, "2.5", 5),
        (params.BURN_MS, "-1", 0),
        (params.BURN_MS, "0", 0),
        (params.BURN_MS, "1001", 1000),
    ],
)
def test_other_bounds(bounds, raw, expected):
    assert bounds.clamp(raw) == expected


def test_seeded_generators_repeat_and_unseeded_share_one(rf):
    first = params.rng_for(rf.get("/", {"seed": "42"}))
    second = params.rng_for(rf.get("/", {"seed": "42"}))
    assert [first.random() for _ in range(3)] == [second.random() for _ in range(3)]
    assert params.rng_for(rf.get("/")) is params.rng_for(rf.get("/", {"seed": "nope"}))
