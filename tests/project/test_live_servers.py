"""The project under real servers: headers, parity, and client disconnects."""

import time

import httpx
import pytest

from bench.serve import servers

pytestmark = pytest.mark.live


@pytest.mark.parametrize("name", servers.CORE_SERVERS)
def test_every_core_server_serves_both_styles_with_the_required_headers(live_server, name):
    server = live_server(name, BENCH_STACK="django")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        bodies = {}
        for style in ("sync", "async"):
            response = client.get(f"/{style}/json")
            assert response.status_code == 200
            for header in ("server", "date", "content-type", "content-length"):
                assert len(response.headers.get_list(header)) == 1, (header, response.headers)
            assert response.headers["content-type"] == "application/json"
            bodies[style] = response.content
            assert client.get(f"/{style}/db?seed=5").status_code == 200
    assert bodies["sync"] == bodies["async"] == b'{"message":"Hello, World!"}'


@pytest.mark.usefixtures("upstream")
@pytest.mark.parametrize("name", ["gunicorn-gthread", "uvicorn"])
def test_outbound_calls_give_the_same_bodies_under_a_live_server(live_server, name):
    server = live_server(name, BENCH_STACK="none")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for target in ("upstream?ms=5", "fanout?n=4&ms=5"):
            sync, asynchronous = (client.get(f"/{style}/{target}") for style in ("sync", "async"))
            assert sync.status_code == asynchronous.status_code == 200
            assert sync.content == asynchronous.content


def _totals(client: httpx.Client) -> dict:
    response = client.get("/__bench__/switches")
    assert response.status_code == 200
    return response.json()["totals"]


def _wait_for(client: httpx.Client, field: str, value: int, within: float) -> dict:
    """Poll the totals until ``field`` reaches ``value`` (or time runs out)."""
    deadline = time.monotonic() + within
    totals = _totals(client)
    while totals[field] < value and time.monotonic() < deadline:
        time.sleep(0.02)
        totals = _totals(client)
    return totals


def _abandon(url: str, after: float) -> None:
    with pytest.raises(httpx.ReadTimeout), httpx.Client(timeout=after) as client:
        client.get(url)


@pytest.mark.parametrize("name", ["uvicorn", "gunicorn-uvicorn", "gunicorn-asgi"])
def test_an_async_view_sees_its_client_leave_under_asgi(live_server, name):
    server = live_server(name, BENCH_STACK="none", BENCH_SWITCH_ACCOUNTING="1")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        before = _totals(client)
        _abandon(f"{server.url}/async/disconnect?ms=3000", after=0.3)
        # Well before the view's own 3 s end.
        cleanups = before["disconnect_cleanups"] + 1
        totals = _wait_for(client, "disconnect_cleanups", cleanups, within=2.0)
        assert totals["disconnect_cleanups"] == cleanups
        assert totals["disconnect_completed"] == before["disconnect_completed"] == 0


def test_a_sync_view_runs_to_its_end_and_counts_no_cleanup(live_server):
    server = live_server("uvicorn", BENCH_STACK="none", BENCH_SWITCH_ACCOUNTING="1")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        before = _totals(client)
        _abandon(f"{server.url}/sync/disconnect?ms=600", after=0.2)
        middle = _wait_for(
            client, "sync_to_async_cancelled", before["sync_to_async_cancelled"] + 1, within=0.3
        )
        after = _wait_for(
            client, "disconnect_completed", before["disconnect_completed"] + 1, within=1.5
        )
    assert after["disconnect_cleanups"] == before["disconnect_cleanups"]
    # Django stopped waiting for the hop (cancelled), the thread slept on to the end.
    assert middle["sync_to_async_cancelled"] == before["sync_to_async_cancelled"] + 1
    assert middle["disconnect_completed"] == before["disconnect_completed"]
    assert after["disconnect_completed"] == before["disconnect_completed"] + 1


def test_the_switch_endpoint_exists_only_in_accounting_mode(live_server):
    server = live_server("uvicorn", BENCH_STACK="none")
    assert httpx.get(f"{server.url}/__bench__/switches").status_code == 404
