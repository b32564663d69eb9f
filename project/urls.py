"""One URL table: every workload under /sync/<name> and /async/<name>.

``WORKLOADS`` maps a name to its (sync view, async view); entries that exist in
one style only (the bridges) have None on the other side. Tests and the
README read this table, so it is the single list of what is served.
``DELIBERATE_MISTAKES`` names the entries that fail on purpose (every request
a 500): they exist to show how a mistake looks, never to be measured.
"""

from collections.abc import Callable

from django.urls import URLPattern, path

from project.workloads import async_views, decorated, sync_views, view_forms

Pair = tuple[Callable | None, Callable | None]

WORKLOADS: dict[str, Pair] = {
    "plaintext": (sync_views.plaintext, async_views.plaintext),
    "json": (sync_views.json, async_views.json),
    "db": (sync_views.db, async_views.db),
    "queries": (sync_views.queries, async_views.queries),
    "updates": (sync_views.updates, async_views.updates),
    "updates-atomic": (sync_views.updates_atomic, async_views.updates_atomic),
    "insert-atomic": (sync_views.insert_atomic, async_views.insert_atomic),
    "fortunes": (sync_views.fortunes, async_views.fortunes),
    "io": (sync_views.io, async_views.io),
    "burn": (sync_views.burn, async_views.burn),
    "loop": (sync_views.loop, async_views.loop),
    "hops": (sync_views.hops, async_views.hops),
    "db-burn": (sync_views.db_burn, async_views.db_burn),
    "upstream": (sync_views.upstream, async_views.upstream),
    "fanout": (sync_views.fanout, async_views.fanout),
    "stream": (sync_views.stream, async_views.stream),
    "sse": (sync_views.sse, async_views.sse),
    "longpoll": (sync_views.longpoll, async_views.longpoll),
    "disconnect": (sync_views.disconnect, async_views.disconnect),
    "json-cbv": (view_forms.sync_cbv, view_forms.async_cbv),
    "json-callable": (view_forms.sync_callable, view_forms.async_callable),
    "bridge-a2s": (sync_views.bridge_a2s, None),
    "bridge-ts": (None, async_views.bridge_ts),
    "bridge-nts": (None, async_views.bridge_nts),
    "orm-unsafe": (None, async_views.orm_unsafe),
}
DELIBERATE_MISTAKES = frozenset({"orm-unsafe"})

WORKLOADS.update(
    {
        f"deco/{name}": (decorated.SYNC_VIEWS[name], decorated.ASYNC_VIEWS[name])
        for name in decorated.DECORATORS
    }
)

STYLES = ("sync", "async")


def _patterns() -> list[URLPattern]:
    patterns = []
    for name, pair in WORKLOADS.items():
        for style, view in zip(STYLES, pair, strict=True):
            if view is not None:
                patterns.append(path(f"{style}/{name}", view, name=f"{style}-{name}"))
    return patterns


urlpatterns = _patterns()
