"""What a site run knows of the user's project: run.json's ``site``, and in it
the ``facts`` ``bench.site.in_site.check`` found (read once from its JSON).

The facts' keys are the check's (``bench.site.in_site.check``): a project whose
settings do not load has ``settings_error`` alone, so each record writes back
exactly the keys it was read with.
"""

from dataclasses import dataclass, field
from typing import Any

from bench.results.records.base import Record


@dataclass
class DatabaseFacts(Record):
    """One alias of DATABASES: engine, name, vendor, and for SQLite whether the file exists."""

    engine: str = ""
    name: str = ""
    vendor: str | None = None
    exists: bool | None = None
    conn_max_age: float | None = None  # None: kept forever (Django's own None); 0: closed
    error: str | None = None

    @property
    def persistent(self) -> bool:
        """Does it keep its connections open (CONN_MAX_AGE None or > 0)? An empty
        DATABASES ("dummy") has nothing to keep."""
        return self.vendor not in (None, "dummy") and self.conn_max_age != 0


@dataclass
class MiddlewareFacts(Record):
    """One MIDDLEWARE entry's capabilities and hooks."""

    path: str = ""
    sync_capable: bool | None = None
    async_capable: bool | None = None
    sync_only: bool | None = None
    hooks: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class SignalHop(Record):
    """A signal sent with asend: the one hop runs its sync receivers, in order."""

    signal: str = ""
    receivers: list[str] = field(default_factory=list)


@dataclass
class ProbedPath(Record):
    """One path served in-process: its status and the hops per request, by function."""

    status: int | None = None
    exception: str | None = None
    sync_to_async: dict[str, float] = field(default_factory=dict)
    async_to_sync: dict[str, float] = field(default_factory=dict)

    def hops(self, direction: str) -> dict[str, float]:
        """The hops of one direction ("sync_to_async" or "async_to_sync")."""
        return (self.sync_to_async if direction == "sync_to_async" else self.async_to_sync) or {}


@dataclass
class Probe(Record):
    """The in-process probe's thread hops, per path and per signal."""

    requests_per_path: int = 0
    paths: dict[str, ProbedPath] = field(default_factory=dict)
    signals: dict[str, SignalHop] = field(default_factory=dict)
    error: str | None = None


@dataclass
class SiteFacts(Record):
    """Everything the check found in the project (``bench.site.in_site.check``)."""

    settings_error: str | None = None
    django_version: str | None = None
    settings_module: str | None = None
    debug: bool = False
    allowed_hosts: list[str] = field(default_factory=list)
    host_allowed: bool = False
    entry_notes: list[str] = field(default_factory=list)
    wsgi: str | None = None
    asgi: str | None = None
    databases: dict[str, DatabaseFacts] = field(default_factory=dict)
    unapplied_migrations: list[str] | None = None
    migrations_error: str | None = None
    middleware: list[MiddlewareFacts] = field(default_factory=list)
    views: dict[str, Any] = field(default_factory=dict)  # "async" is a key: kept as read
    probe: Probe | None = None
    probe_skipped: str | None = None

    @property
    def signals(self) -> dict[str, SignalHop]:
        """The probe's signal hops, by hop name; none when it did not run."""
        return self.probe.signals if self.probe is not None else {}

    def persistent_databases(self) -> dict[str, float | None]:
        """alias -> CONN_MAX_AGE of each database that keeps its connections open."""
        return {
            alias: database.conn_max_age
            for alias, database in self.databases.items()
            if database.persistent
        }


@dataclass
class SiteAbout(Record):
    """run.json's ``site``: the project measured, what was found in it, what was said."""

    directory: str = ""
    settings: str = ""
    paths: list[list[Any]] = field(default_factory=list)  # [path, weight]
    locustfile: str | None = None
    git: dict[str, Any] = field(default_factory=dict)
    facts: SiteFacts | None = None
    warnings: list[str] = field(default_factory=list)
    counted_databases: list[str] | None = None

    @property
    def weights(self) -> dict[str, float]:
        """Each path's share of requests, by path."""
        return {str(path): float(weight) for path, weight in self.paths}
