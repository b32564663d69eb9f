"""insert-atomic: one ledger row per request, in one transaction, in both view styles."""

import json
import logging

import pytest
from asgiref.sync import async_to_sync
from django.db import transaction

from project.workloads import data, responses
from project.workloads.models import Ledger, World

NO_SUCH_WORLD = responses.WORLD_ROWS + 1


@pytest.mark.parametrize(("kind", "style"), [("wsgi", "sync"), ("asgi", "sync"), ("asgi", "async")])
def test_every_request_adds_exactly_one_row_and_sets_its_world(handlers, request_via, kind, style):
    app = dict(zip(("wsgi", "asgi"), handlers("none"), strict=True))[kind]
    before = Ledger.objects.count()
    for index in range(5):
        reply = request_via(kind, app, f"/{style}/insert-atomic?seed={40 + index}")
        assert reply.status == 200
        world = json.loads(reply.body)
        assert World.objects.get(id=world["id"]).randomnumber == world["randomNumber"]
        last = Ledger.objects.latest("id")
        assert (last.world_id, last.randomnumber) == (world["id"], world["randomNumber"])
    assert Ledger.objects.count() == before + 5


@pytest.mark.parametrize(("style", "expected"), [("sync", 3), ("async", 3)])
def test_one_hop_holds_the_whole_block(handlers, request_via, style, expected):
    # ASGI, no middleware: a sync view is 3 hops (the view itself is one), an
    # async view 2 plus the one sync_to_async around its atomic block.
    from project import accounting

    accounting.install()  # idempotent; the same wrappers the servers use
    asgi = handlers("none")[1]
    before = accounting.counters().snapshot()
    assert request_via("asgi", asgi, f"/{style}/insert-atomic?seed=3").status == 200
    after = accounting.counters().snapshot()
    hops = after["sync_to_async"] - before["sync_to_async"]
    assert (hops, after["async_to_sync"] - before["async_to_sync"]) == (expected, 0)


def _fail_after_the_insert(monkeypatch) -> list[int]:
    """Make the World update fail after the ledger row is written, and record
    that the insert ran inside an atomic block."""
    seen: list[int] = []
    original = Ledger.objects.create

    def create(**fields):
        seen.append(transaction.get_connection().in_atomic_block)
        return original(**fields)

    monkeypatch.setattr(Ledger.objects, "create", create)
    monkeypatch.setattr(responses, "update_plan", lambda rng, count: [(NO_SUCH_WORLD, 5)] * count)
    return seen


@pytest.mark.parametrize(("kind", "style"), [("wsgi", "sync"), ("asgi", "async")])
def test_a_failing_update_rolls_the_insert_back(
    handlers, request_via, monkeypatch, caplog, kind, style
):
    app = dict(zip(("wsgi", "asgi"), handlers("none"), strict=True))[kind]
    seen = _fail_after_the_insert(monkeypatch)
    before = Ledger.objects.count()
    with caplog.at_level(logging.ERROR, logger="django.request"):
        reply = request_via(kind, app, f"/{style}/insert-atomic")
    assert reply.status == 500
    assert seen == [True]  # the row was written, inside the block
    assert Ledger.objects.count() == before  # and rolled back with it
    assert [r.exc_info[0] for r in caplog.records if r.exc_info] == [World.DoesNotExist]


def test_the_data_functions_roll_back_alike():
    before = Ledger.objects.count()
    with pytest.raises(World.DoesNotExist):
        data.insert_atomic(NO_SUCH_WORLD, 7)
    with pytest.raises(World.DoesNotExist):
        async_to_sync(data.ainsert_atomic)(NO_SUCH_WORLD, 7)
    assert Ledger.objects.count() == before
    assert data.insert_atomic(1, 7).randomnumber == 7
    assert async_to_sync(data.ainsert_atomic)(2, 8).randomnumber == 8
    assert Ledger.objects.count() == before + 2
