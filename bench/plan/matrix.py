"""Which cells a run measures: the matrix is data, each cell has a stable id.

A cell is (scenario, endpoint, server, view style, middleware stack, users,
database mode). Each scenario declares the values it wants and a narrower
``default`` subset for ``make bench``; the command line narrows further
(asv-style: a cartesian product with excludes).
"""

import itertools
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.errors import UsageError
from bench.load import schedule
from bench.plan.scenarios import STYLES, Scenario
from bench.serve import servers

STACKS = ("none", "django", "sync", "async", "mixed")


@dataclass(frozen=True)
class Cell:
    scenario: str
    endpoint: str
    server: str
    style: str
    stack: str
    users: int  # closed loop: the users; open loop: the pool that sends the schedule
    db_mode: str = ""  # "" (no database), "sqlite", or a PostgreSQL mode
    rate: int = 0  # open loop: requests falling due per second; 0: closed loop

    @property
    def id(self) -> str:
        """Stable across runs and machines: the same cell always has the same id."""
        parts = [
            self.scenario,
            self.endpoint,
            self.server,
            self.style,
            self.stack,
            f"r{self.rate}" if self.rate else f"u{self.users}",
        ]
        if self.db_mode:
            parts.append(self.db_mode)
        return ".".join(parts)

    @property
    def sweep_key(self) -> tuple:
        """What an open-loop sweep varies the rate of: everything but the rate
        (and the pool, which follows the rate)."""
        return (self.scenario, self.endpoint, self.server, self.style, self.stack, self.db_mode)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Cell":
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})

    def to_json(self, keys: tuple[str, ...] | None = None) -> dict[str, Any]:
        """The cell's JSON; ``keys``: only those, in that order (a run written
        before open-loop cells has no ``rate``, and reads back as written)."""
        data = self.to_dict()
        return data if keys is None else {key: data[key] for key in keys}

    from_json = from_dict


@dataclass(frozen=True)
class Selection:
    """What the command line asked for; None means "whatever the scenario declares"."""

    servers: tuple[str, ...] | None = None
    styles: tuple[str, ...] | None = None
    stacks: tuple[str, ...] | None = None
    users: tuple[int, ...] | None = None
    rates: tuple[int, ...] | None = None  # open loop instead of the scenarios' user counts
    endpoints: tuple[str, ...] | None = None
    full: bool = False
    postgres: bool = False


@dataclass
class Expansion:
    cells: list[Cell] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def validate(selection: Selection) -> None:
    """Unknown names on the command line end in one line naming the valid ones."""
    for server in selection.servers or ():
        servers.get(server)
    for style in selection.styles or ():
        if style not in STYLES:
            raise UsageError(f"unknown style {style!r}; valid styles: {', '.join(STYLES)}")
    for stack in selection.stacks or ():
        if stack not in STACKS:
            raise UsageError(f"unknown stack {stack!r}; valid stacks: {', '.join(STACKS)}")
    for count in selection.users or ():
        if count < 1:
            raise UsageError(f"--users must be >= 1, got {count}")
    for rate in selection.rates or ():
        if rate < 1:
            raise UsageError(f"--rate must be >= 1 request per second, got {rate}")
    if selection.rates and selection.users and len(selection.users) > 1:
        raise UsageError("with --rate, --users sets the pool size: give one value")


def loads(scenario: Scenario, default: dict[str, Any], selection: Selection) -> list[tuple]:
    """(users, rate) pairs of a scenario: closed-loop user counts and open-loop rates.

    ``--rate`` replaces both (``--users`` then fixes the pool); ``--users``
    alone keeps the closed loop only; otherwise the scenario's user counts and
    its declared rates, narrowed by its default block unless ``--full``.
    """
    if selection.rates:
        pool = selection.users[0] if selection.users else None
        return [(pool or schedule.pool_size(rate), rate) for rate in selection.rates]
    if selection.users:
        return [(count, 0) for count in selection.users]
    users = _narrow(scenario.users, default.get("users"))
    rates = list(scenario.rates) if selection.full else list(default.get("rates", []))
    return [(count, 0) for count in users] + [(schedule.pool_size(rate), rate) for rate in rates]


def _narrow(values: Iterable, subset: Iterable | None) -> list:
    values = list(values)
    if subset is None:
        return values
    allowed = set(subset)
    return [value for value in values if value in allowed]


def _excluded(cell: Cell, rules: Iterable[dict[str, Any]]) -> bool:
    values = asdict(cell)
    return any(all(values.get(key) == value for key, value in rule.items()) for rule in rules)


EXTERNAL = servers.EXTERNAL


def external(cells: Iterable[Cell]) -> list[Cell]:
    """The cells as measured against a server the harness did not start: its
    software, stack and database are the target's own, so only what the load
    generator chooses (scenario, endpoint, view style, users) remains."""
    seen: dict[str, Cell] = {}
    for cell in cells:
        moved = Cell(
            cell.scenario, cell.endpoint, EXTERNAL, cell.style, EXTERNAL, cell.users, rate=cell.rate
        )
        seen.setdefault(moved.id, moved)
    return list(seen.values())


def expand(
    scenarios: Iterable[Scenario],
    selection: Selection,
    application: servers.Application = servers.BUNDLED,
) -> Expansion:
    """Every cell of ``scenarios`` under ``selection``, with notes on what was
    left out; a server is skipped when ``application`` has no entry for its
    interface (a site without an ASGI module)."""
    validate(selection)
    result = Expansion()
    for scenario in scenarios:
        default = {} if selection.full else scenario.default
        declared_servers = scenario.servers or servers.CORE_SERVERS
        server_names = _narrow(declared_servers, default.get("servers"))
        if selection.servers is not None:
            server_names = (
                _narrow(selection.servers, scenario.servers)
                if scenario.servers
                else list(selection.servers)
            )
        ready = []
        for name in server_names:
            spec = servers.get(name)
            if not spec.available():
                result.notes.append(
                    f"skipped server {name}: not installed (pip install '.[servers]')"
                )
            elif not application.external and application.entry(spec.interface) is None:
                note = (
                    f"skipped {spec.interface.upper()} servers: {application.name} has no "
                    f"{spec.interface.upper()} application (--{spec.interface} module:application)"
                )
                if note not in result.notes:
                    result.notes.append(note)
            else:
                ready.append(name)
        endpoints = _narrow(
            _narrow(scenario.endpoints, default.get("endpoints")), selection.endpoints
        )
        styles = _narrow(_narrow(scenario.styles, default.get("styles")), selection.styles)
        stacks = _narrow(_narrow(scenario.stacks, default.get("stacks")), selection.stacks)
        load_points = loads(scenario, default, selection)
        if not scenario.database:
            db_modes = [""]
        elif selection.postgres:
            db_modes = _narrow(scenario.db_modes, default.get("db_modes"))
        else:
            db_modes = ["sqlite"]
        rules = [*scenario.exclude, *default.get("exclude", [])]
        before = len(result.cells)
        for endpoint, server, style, stack, (count, rate), db_mode in itertools.product(
            endpoints, ready, styles, stacks, load_points, db_modes
        ):
            cell = Cell(scenario.name, endpoint, server, style, stack, count, db_mode, rate)
            if _excluded(cell, rules):
                continue
            if db_mode == "persistent" and servers.get(server).interface == "asgi":
                continue  # refused by the project: persistent connections under ASGI
            result.cells.append(cell)
        if len(result.cells) == before:
            result.notes.append(f"scenario {scenario.name}: no cells match the selection")
    ids = [cell.id for cell in result.cells]
    assert len(ids) == len(set(ids)), "cell ids must be unique"
    return result
