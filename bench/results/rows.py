"""The rows a run's answers are made of: verdicts, sustained rates, held connections.

``bench.analyse`` builds them from the cells of a run; ``bench.report``,
``bench.site.verdict`` and the command line read them by attribute (Jinja's
``row.question`` reads a dataclass as it reads a dict). ``to_json`` gives each
the shape it had as a dict, key for key, for the rows that reach disk
(``compare.json``) and for any reader of the old shape.
"""

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Metric:
    """One ratio B / A with its interval and test; ``p_holm`` is the uncorrected
    p-value until ``bench.analyse.verdicts.correct`` runs over every row."""

    ratio: float | None
    ci_low: float | None
    ci_high: float | None
    n_a: int
    n_b: int
    p_value: float | None
    p_holm: float | None
    significant: bool
    verdict: str  # "significant", "not significant (after Holm)", "not tested (why)"

    @property
    def tested(self) -> bool:
        return self.p_value is not None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Metric":
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


def _metrics_json(metrics: dict[str, Metric]) -> dict[str, dict[str, Any]]:
    return {name: metric.to_json() for name, metric in metrics.items()}


@dataclass
class VerdictRow:
    """A question a run answers (candidate against baseline), or, when one of
    its configurations failed, why it has no ratio."""

    question: str
    candidate: str  # cell ids
    baseline: str
    loadgen_bound: bool
    metrics: dict[str, Metric] = field(default_factory=dict)
    cpu_includes_database: bool | None = None  # None: a failed row, nothing compared
    failed: dict[str, str] | None = None  # cell id -> why it failed; None: compared
    # "paired": the cells ran back to back in every pass and ``metrics`` are
    # over per-pair ratios, with the unpaired (Welch) figures kept beside them;
    # None: a run without blocks, whose metrics are the unpaired ones.
    pairing: str | None = None
    unpaired: dict[str, Metric] | None = None
    # Descriptive ratios beside the tested ones, outside Holm's family (the
    # kernel's side: context switches per request); None: not measured.
    kernel: dict[str, Metric] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "question": self.question,
            "candidate": self.candidate,
            "baseline": self.baseline,
            "loadgen_bound": self.loadgen_bound,
        }
        if self.cpu_includes_database is not None:
            data["cpu_includes_database"] = self.cpu_includes_database
        data["metrics"] = _metrics_json(self.metrics)
        if self.failed is not None:
            data["failed"] = self.failed
        if self.pairing is not None:
            data["pairing"] = self.pairing
        if self.unpaired is not None:
            data["unpaired"] = _metrics_json(self.unpaired)
        if self.kernel is not None:
            data["kernel"] = _metrics_json(self.kernel)
        return data


@dataclass
class ComparisonRow:
    """One cell of run B against the same cell of run A (``bench compare``); the
    raw repeat values of each metric are kept beside its ratio."""

    cell: str
    loadgen_bound: bool
    metrics: dict[str, Metric] = field(default_factory=dict)
    values: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "cell": self.cell,
            "loadgen_bound": self.loadgen_bound,
            "metrics": {
                name: {
                    "a": self.values[name][0],
                    "b": self.values[name][1],
                    **metric.to_json(),
                }
                for name, metric in self.metrics.items()
            },
        }


@dataclass
class PassResult:
    """One pass's search of a configuration's rates (``bench.analyse.search``):
    the bracket it found, the trials it made, why it ended early if it did."""

    lower: int  # the highest rate met below every rate missed (0: none met)
    upper: int | None  # the lowest rate missed (None: none: met at the grid's top)
    resolution: float | None  # upper / lower - 1, where both are known
    trials: list[list[Any]]  # [rate, outcome]
    ended: str | None

    @property
    def capped(self) -> bool:
        """Met the grid's top rate: its figure is a lower bound."""
        return self.upper is None and bool(self.lower)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SustainedRate:
    """One configuration swept open-loop: the highest rate it sustained, per pass."""

    scenario: str
    endpoint: str
    server: str
    style: str
    stack: str
    db_mode: str
    rates: list[int]  # the grid swept
    slo_ms: float
    per_pass: list[float]  # each pass's sustained rate (its bracket's lower end)
    passes: list[PassResult]  # each pass's search result (bench.analyse.search)
    resolution: float | None  # the widest bracket of a pass, relative to its figure
    ended: list[str]  # why searches ended early (the load generator)
    at_least_top: bool  # every pass met the grid's top rate
    capped_passes: int  # passes that met the top rate: lower bounds
    below_lowest: bool  # no pass met the grid's lowest rate

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SustainedVerdict:
    """ASGI + async against WSGI + sync by the rates they sustain."""

    scenario: str
    endpoint: str
    candidate: str  # "server style"
    baseline: str
    slo_ms: float
    candidate_rate: str  # bench.analyse.sustained.describe_rate of each side
    baseline_rate: str
    metrics: dict[str, Metric]  # {"sustained rate": ...}
    bounded: bool  # a side met the grid's top rate: the ratio is a bound
    loadgen_bound: bool

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "metrics": _metrics_json(self.metrics)}


@dataclass
class HeldLevel:
    """One user count of a held-connection configuration: did it hold them?"""

    users: int
    held: bool
    reason: str | None  # why it did not hold; None when it did
    repeats: int
    repeats_held: int
    events_per_s: float | None
    due_per_s: float | None
    p99_ms: float | None
    uss_mb: float | None
    threads: float | None
    loadgen_bound: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class HeldRow:
    """A held-connection configuration: its cost per connection and what it kept."""

    endpoint: str
    server: str
    style: str
    stack: str
    users: list[int]
    kb_per_connection: float | None  # the memory line's slope
    base_mb: float | None  # its intercept: the server with no connection
    threads_per_connection: float | None
    base_threads: float | None
    kept: int  # the highest count held, with every lower one
    failed_at: int | None  # the first count that did not hold
    failure: str | None
    failure_loadgen_bound: bool
    levels: list[HeldLevel]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SiteVerdict:
    """The plain-language verdict at the top of a site run's report."""

    best: str | None  # the cell id that served most without failing
    lines: list[str]
    hop_sources: list[tuple[str, float]]
    hop_labels: list[tuple[str, float]]
    failed: list[str]  # cell ids

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
