"""The harness's CPU per request against a known answer.

The burn view spends exactly N ms of its thread's CPU per request, so server
CPU per request for burn15 minus burn5 must be 10 ms (scenarios/burn.py says
why not burn10 minus burn0), whatever the server,
the queue, or the switch accounting's own HTTP reads at the window's edges.
This is the check that catches a CPU interval that is shorter or longer than
the interval its requests were counted over: under a deep queue (200 users on
a 4-thread gthread worker) such a bias moved the figure by up to 2x.
"""

import json

import pytest
from helpers.harness import harness, only_run

pytestmark = pytest.mark.live

BURN_MS = 10.0
TOLERANCE = 0.10


# Both servers with the accounting (its edge reads are what once biased the
# figure); without it one server is enough, the sampler being the same.
SERVERS = {"switches": ("gunicorn-gthread", "uvicorn"), "no-switches": ("gunicorn-gthread",)}


@pytest.mark.parametrize("accounting", ["switches", "no-switches"])
def test_cpu_per_request_recovers_a_known_burn(tmp_path, accounting):
    extra = ["--no-switches"] if accounting == "no-switches" else []
    extra += ["--server", *SERVERS[accounting]]
    proc = harness(
        "run", "--results", str(tmp_path), "--scenario", "burn",
        "--duration", "3", "--warmup", "1", "--repeats", "1", "--no-calibrate", *extra,
    )  # fmt: skip
    output, _ = proc.communicate(timeout=240)
    assert proc.returncode == 0, output
    run_dir = only_run(tmp_path)
    cpu: dict[tuple[str, str], float] = {}
    for path in (run_dir / "cells").glob("*.json"):
        cell = json.loads(path.read_text())
        (repeat,) = cell["repeats"]
        assert repeat["status"] == "ok", repeat.get("reason")
        assert (repeat["switches"] is not None) == (accounting == "switches")
        assert not repeat["intervals"]["differ"], repeat["intervals"]
        identity = cell["cell"]
        cpu[(identity["server"], identity["endpoint"])] = repeat["server"]["cpu_ms_per_request"]
    assert {server for server, _ in cpu} == set(SERVERS[accounting])
    for server in SERVERS[accounting]:
        extra_ms = cpu[(server, "burn15")] - cpu[(server, "burn5")]
        assert extra_ms == pytest.approx(BURN_MS, rel=TOLERANCE), (server, cpu)
