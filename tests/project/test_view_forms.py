"""Django must see each view form's style, and adapt none of them needlessly."""

import pytest
from asgiref.sync import iscoroutinefunction
from django.urls import resolve

from project import accounting
from project.workloads import view_forms


@pytest.mark.parametrize("form", ["json", "json-cbv", "json-callable"])
@pytest.mark.parametrize("style", ["sync", "async"])
def test_django_detects_the_style_of_each_view_form(form, style):
    view = resolve(f"/{style}/{form}").func
    assert iscoroutinefunction(view) is (style == "async")


def test_class_based_views_declare_their_style():
    assert view_forms.AsyncJsonView.view_is_async is True
    assert view_forms.SyncJsonView.view_is_async is False


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
@pytest.mark.parametrize("style", ["sync", "async"])
def test_every_form_costs_the_same_hops_as_a_function_view(handlers, request_via, kind, style):
    """A form Django misread would be wrapped in an adapter: one more hop."""
    accounting.install()
    app = dict(zip(("wsgi", "asgi"), handlers("none"), strict=True))[kind]
    counts = {}
    for form in ("json", "json-cbv", "json-callable"):
        request_via(kind, app, f"/{style}/{form}")
        before = accounting.counters().snapshot()
        reply = request_via(kind, app, f"/{style}/{form}")
        after = accounting.counters().snapshot()
        assert reply.body == b'{"message":"Hello, World!"}'
        counts[form] = (
            after["sync_to_async"] - before["sync_to_async"],
            after["async_to_sync"] - before["async_to_sync"],
        )
    assert counts["json-cbv"] == counts["json"] == counts["json-callable"]
