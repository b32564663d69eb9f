"""Scenario discovery: every ``scenarios/*.py`` not starting with ``_``.

A scenario is a plain locustfile with a module docstring and a literal
``BENCH = {...}`` dict that declares its matrix. The harness reads both with
``ast`` and never imports the file: importing locust would monkey-patch the
harness with gevent. Whether a file really imports is checked in a
subprocess before a run (``check_importable``).
"""

import ast
import hashlib
import importlib.util
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import ROOT
from bench.errors import BenchError, UsageError

SCENARIO_DIR = ROOT / "scenarios"
STYLES = ("sync", "async")
OWN = "own"  # a user's site: its views and middleware are its own, no variants
DB_MODES = ("none", "persistent", "pool4", "pool16")

# What a scenario's "default" block (make bench's subset) may narrow.
_NARROWING_KEYS = {
    "endpoints",
    "styles",
    "stacks",
    "users",
    "rates",
    "servers",
    "db_modes",
    "exclude",
}
_KNOWN_KEYS = _NARROWING_KEYS | {
    "name",
    "baseline",  # an endpoint every other endpoint is compared with in the verdicts
    "database",
    "upstream",
    "accounting",
    "primary",
    "expected_errors",
    "default",
    "groups",
    "verify_rows",  # a table that gains one row per successful request (bench.measure.rowcheck)
    "threads_per_user",  # each user holds a connection: a server thread for each
    "warmup_per_user",  # seconds of warm-up each user needs at least (opening connections)
}


class ScenarioError(BenchError):
    """A scenario file that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Scenario:
    name: str
    path: Path
    doc: str
    endpoints: dict[str, str]  # endpoint name -> locust User class
    styles: tuple[str, ...]
    stacks: tuple[str, ...]
    users: tuple[int, ...]
    servers: tuple[str, ...] | None
    db_modes: tuple[str, ...]
    database: bool
    upstream: bool
    accounting: bool
    primary: str | None
    expected_errors: tuple[str, ...]
    exclude: tuple[dict[str, Any], ...]
    default: dict[str, Any] = field(default_factory=dict)
    declared: dict[str, Any] = field(default_factory=dict)
    sha256: str = ""
    groups: tuple[str, ...] = ("default",)
    paths: dict[str, str] = field(default_factory=dict)  # User class -> its endpoint path
    # Open-loop rates (requests/s) the scenario can be swept at; empty: closed loop only.
    rates: tuple[int, ...] = ()
    # Each user holds a connection open: threaded servers get one thread per
    # user, and gunicorn room for that many connections (servers.thread_per_connection).
    threads_per_user: bool = False
    # A cell's warm-up is at least users x this (seconds): thousands of held
    # connections take seconds to open, and the window must not measure that.
    warmup_per_user: float = 0.0
    # The table whose rows the harness counts around each repeat, if any.
    verify_rows: str | None = None

    def warmup_for(self, users: int, warmup: float) -> float:
        """The warm-up of a cell with ``users``, given the run's ``warmup``."""
        return max(warmup, users * self.warmup_per_user)

    def path_of(self, endpoint: str) -> str | None:
        """The request path after /<style>/ for an endpoint, when the file says it literally."""
        return self.paths.get(self.endpoints[endpoint])

    @property
    def styled(self) -> bool:
        """Whether the scenario picks the sync or async variant of each view
        (the bundled project); a user's site has only its own."""
        return self.styles != (OWN,)

    def primer_path(self, endpoint: str, style: str) -> str | None:
        """The page a cell's primer request asks for, when the scenario names it."""
        path = self.path_of(endpoint)
        if path is None:
            return None
        return f"/{style}/{path}" if self.styled else path

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else ""

    def definition(self) -> dict[str, Any]:
        """What a run records: enough to refuse comparing different definitions."""
        return {
            "path": str(self.path.relative_to(ROOT))
            if self.path.is_relative_to(ROOT)
            else str(self.path),
            "sha256": self.sha256,
            "matrix": self.declared,
            "doc": self.doc,
        }


def _fail(path: Path, message: str) -> ScenarioError:
    return ScenarioError(f"scenario {path.name}: {message}")


def _tuple_of(path: Path, declared: dict, key: str, kind: type, default: Any) -> tuple:
    value = declared.get(key, default)
    if value is None:
        return None  # type: ignore[return-value]
    if not isinstance(value, list | tuple) or not all(isinstance(item, kind) for item in value):
        raise _fail(path, f"BENCH[{key!r}] must be a list of {kind.__name__}")
    return tuple(value)


def _endpoint_paths(tree: ast.Module) -> dict[str, str]:
    """``endpoint = "..."`` of each class in the file, following bases in the same file."""
    own: dict[str, str] = {}
    bases: dict[str, list[str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        bases[node.name] = [base.id for base in node.bases if isinstance(base, ast.Name)]
        for item in node.body:
            if (
                isinstance(item, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "endpoint" for t in item.targets)
                and isinstance(item.value, ast.Constant)
                and isinstance(item.value.value, str)
            ):
                own[node.name] = item.value.value

    def resolve(name: str, seen: frozenset[str] = frozenset()) -> str | None:
        if name in own:
            return own[name]
        for base in bases.get(name, []):
            if base not in seen and (found := resolve(base, seen | {name})) is not None:
                return found
        return None

    return {name: path for name in bases if (path := resolve(name)) is not None}


def load(path: Path) -> Scenario:
    """Read one scenario file without importing it."""
    source = path.read_bytes()
    tree, doc, declared = _declaration(path, source)
    endpoints = _endpoints(path, declared)
    name = declared.get("name", path.stem)
    _check_module_name(path)
    styles, db_modes, users, rates = _axes(path, declared)
    default = declared.get("default", {})
    if not isinstance(default, dict) or set(default) - _NARROWING_KEYS:
        raise _fail(path, f"BENCH['default'] may only narrow {sorted(_NARROWING_KEYS)}")
    exclude = declared.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(rule, dict) for rule in exclude):
        raise _fail(path, "BENCH['exclude'] must be a list of dicts")
    verify_rows = declared.get("verify_rows")
    if verify_rows is not None and not (
        isinstance(verify_rows, str) and verify_rows.isidentifier() and declared.get("database")
    ):
        raise _fail(path, "BENCH['verify_rows'] must name a table, with 'database': True")
    baseline = declared.get("baseline")
    if baseline is not None and baseline not in endpoints:
        raise _fail(path, f"BENCH['baseline'] {baseline!r} is not one of its endpoints")
    warmup_per_user = declared.get("warmup_per_user", 0.0)
    if not isinstance(warmup_per_user, int | float) or warmup_per_user < 0:
        raise _fail(path, "BENCH['warmup_per_user'] must be a number of seconds >= 0")
    return Scenario(
        name=name,
        path=path,
        doc=doc,
        endpoints=dict(endpoints),
        styles=styles,
        stacks=_tuple_of(path, declared, "stacks", str, ["none"]),
        users=users,
        servers=_tuple_of(path, declared, "servers", str, None),
        db_modes=db_modes,
        database=bool(declared.get("database", False)),
        upstream=bool(declared.get("upstream", False)),
        accounting=bool(declared.get("accounting", False)),
        primary=declared.get("primary"),
        expected_errors=_tuple_of(path, declared, "expected_errors", str, []),
        exclude=tuple(exclude),
        default=default,
        declared=declared,
        sha256=hashlib.sha256(source).hexdigest(),
        groups=_tuple_of(path, declared, "groups", str, ["default"]),
        paths=_endpoint_paths(tree),
        rates=rates,
        threads_per_user=bool(declared.get("threads_per_user", False)),
        warmup_per_user=float(warmup_per_user),
        verify_rows=verify_rows,
    )


def _declaration(path: Path, source: bytes) -> tuple[ast.Module, str, dict[str, Any]]:
    """The file's syntax tree, its docstring and its ``BENCH`` literal, each required."""
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise _fail(path, f"syntax error on line {exc.lineno}: {exc.msg}") from None
    doc = ast.get_docstring(tree) or ""
    if not doc:
        raise _fail(path, "needs a module docstring saying what it measures and why")
    declared = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "BENCH" for target in node.targets
        ):
            try:
                declared = ast.literal_eval(node.value)
            except ValueError:
                raise _fail(path, "BENCH must be a literal dict (no names or calls)") from None
    if not isinstance(declared, dict):
        raise _fail(path, "declares no BENCH = {...} matrix")
    unknown = set(declared) - _KNOWN_KEYS
    if unknown:
        raise _fail(path, f"unknown BENCH keys {sorted(unknown)}; known: {sorted(_KNOWN_KEYS)}")
    return tree, doc, declared


def _endpoints(path: Path, declared: dict[str, Any]) -> dict[str, str]:
    """``BENCH['endpoints']``: endpoint names to the User classes that load them."""
    endpoints = declared.get("endpoints")
    if (
        not isinstance(endpoints, dict)
        or not endpoints
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in endpoints.items())
    ):
        raise _fail(path, "BENCH['endpoints'] must map endpoint names to User class names")
    return endpoints


def _axes(
    path: Path, declared: dict[str, Any]
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[int, ...], tuple[int, ...]]:
    """The declared styles, database modes, user counts and open-loop rates, checked."""
    styles = _tuple_of(path, declared, "styles", str, list(STYLES))
    if bad := set(styles) - set(STYLES):
        raise _fail(path, f"unknown styles {sorted(bad)}; valid: {', '.join(STYLES)}")
    db_modes = _tuple_of(path, declared, "db_modes", str, ["none"])
    if bad := set(db_modes) - set(DB_MODES):
        raise _fail(path, f"unknown db_modes {sorted(bad)}; valid: {', '.join(DB_MODES)}")
    users = _tuple_of(path, declared, "users", int, [32])
    if any(count < 1 for count in users):
        raise _fail(path, "user counts must be >= 1")
    rates = _tuple_of(path, declared, "rates", int, [])
    if any(rate < 1 for rate in rates):
        raise _fail(path, "open-loop rates must be >= 1 request per second")
    return styles, db_modes, users, rates


def _check_module_name(path: Path) -> None:
    # locust imports a locustfile as a top-level module named after the file:
    # scenarios/json.py would replace the standard library's json everywhere.
    stem = path.stem
    if stem in sys.stdlib_module_names or importlib.util.find_spec(stem) is not None:
        raise _fail(
            path,
            f"the file name shadows the module {stem!r} when locust imports it; "
            "rename the file (the scenario keeps its BENCH['name'])",
        )


def discover(directory: Path = SCENARIO_DIR) -> dict[str, Scenario]:
    """All scenarios by name, sorted."""
    found: dict[str, Scenario] = {}
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        scenario = load(path)
        if scenario.name in found:
            raise _fail(
                path, f"name {scenario.name!r} is also used by {found[scenario.name].path.name}"
            )
        found[scenario.name] = scenario
    return found


def select(available: dict[str, Scenario], names: list[str] | None) -> list[Scenario]:
    """The scenarios named (a group's name stands for all its scenarios), or those
    of the "default" group when none is named; a usage error naming the valid
    ones for an unknown name."""
    groups: dict[str, list[str]] = {}
    for scenario in available.values():
        for group in scenario.groups:
            groups.setdefault(group, []).append(scenario.name)
    if not names:
        names = ["default"]
    unknown = [name for name in names if name not in available and name not in groups]
    if unknown:
        raise UsageError(
            f"unknown scenario {', '.join(map(repr, unknown))}; valid scenarios: "
            f"{', '.join(available)}; groups: {', '.join(sorted(groups))}"
        )
    chosen = [
        member for name in names for member in ([name] if name in available else groups[name])
    ]
    return [available[name] for name in dict.fromkeys(chosen)]


def check_importable(scenarios: list[Scenario]) -> None:
    """Import each scenario with locust in a subprocess; one line per failure."""
    if not scenarios:
        return
    payload = json.dumps({str(s.path): sorted(set(s.endpoints.values())) for s in scenarios})
    result = subprocess.run(
        [sys.executable, "-m", "bench.load.in_locust.scenario_check", payload],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    if result.returncode != 0:
        lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
        raise ScenarioError(lines[-1] if lines else "scenario check failed")
