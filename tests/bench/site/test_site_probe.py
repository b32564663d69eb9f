"""bench.site.in_site.probe: a hop into Signal.asend is named by the receivers it runs."""

import asyncio

from django.core.signals import request_started
from django.dispatch import Signal

from bench.site.in_site import probe as site_probe

ORDER_PAID = Signal()


def mail_receipt(sender, **kwargs):
    return "mailed"


async def audit(sender, **kwargs):
    return "audited"


def count_hops(signal: Signal) -> site_probe.HopCounter:
    counter = site_probe.HopCounter()
    counter.path = "/"
    with site_probe.counting_hops(counter):
        asyncio.run(signal.asend(sender=None))
    return counter


def test_asend_names_its_sync_receivers_and_the_signal():
    ORDER_PAID.connect(mail_receipt)
    ORDER_PAID.connect(audit)  # an async receiver runs on the loop: no hop, not named
    try:
        counter = count_hops(ORDER_PAID)
    finally:
        ORDER_PAID.disconnect(mail_receipt)
        ORDER_PAID.disconnect(audit)
    name = f"{__name__}.ORDER_PAID receivers {__name__}.mail_receipt"
    assert counter.per_request("/", "sync_to_async") == {
        name: round(1 / site_probe.REQUESTS_PER_PATH, 4)
    }
    assert counter.signals == {
        name: {"signal": f"{__name__}.ORDER_PAID", "receivers": [f"{__name__}.mail_receipt"]}
    }


def test_djangos_request_started_names_close_old_connections():
    counter = count_hops(request_started)
    ((name, hop),) = counter.signals.items()
    assert hop["signal"] == "django.core.signals.request_started"
    assert "django.db.close_old_connections" in hop["receivers"]
    assert name in counter.counts["/"]["sync_to_async"]


def test_other_hops_keep_their_callable_name():
    counter = site_probe.HopCounter()
    assert counter.name(mail_receipt) == f"{__name__}.mail_receipt"
    assert site_probe.signal_hop(mail_receipt, {}) is None
