"""The typed records that reach disk: a repeat, a cell document, a run document, a ceiling.

Each record is a dataclass that reads its JSON (``from_json``) and writes it
back (``to_json``) key for key, in the order it was read: a document written by
an older harness (fewer keys, another order) comes back byte-identical, and a
key this harness does not know is kept beside the fields (``json_extra``)
rather than dropped. A record built in code writes its fields in declaration
order unless its builder names the keys it has (``json_keys``: a failed
repeat has four); a field assigned later that was not among them is added at
the end, as a key added to a dict would be.

The nested parts (a repeat's server, load generator, latency, switches,
database and open-loop figures) are records of their own; what has no fixed
shape (metadata, a server's description, the per-name latencies' names) stays
a dict.
"""

from bench.results.records.base import Json, Record
from bench.results.records.documents import (
    SUMMARY_METRICS,
    Calibration,
    Ceiling,
    CellDocument,
    CrossCheck,
    DatabaseInfo,
    GitInfo,
    Harness,
    Hosts,
    MachineInfo,
    MatrixRecord,
    Metadata,
    PairProgress,
    PassOrder,
    Progress,
    RunDocument,
    RunOptionsRecord,
    ScheduleCheck,
    Spread,
    StoppingRecord,
    ceiling_from_json,
)
from bench.results.records.repeat import (
    DbFigures,
    LatencySummary,
    LoadgenCores,
    LoadgenFigures,
    LoadgenGuard,
    LocustTotals,
    OpenLoopFigures,
    RepeatRecord,
    RowCheck,
    SchedFigures,
    ServerFigures,
    Steadiness,
    SwitchFigures,
    WindowIntervals,
)

__all__ = [
    "SUMMARY_METRICS",
    "Calibration",
    "Ceiling",
    "CellDocument",
    "CrossCheck",
    "DatabaseInfo",
    "DbFigures",
    "GitInfo",
    "Harness",
    "Hosts",
    "Json",
    "LatencySummary",
    "LoadgenCores",
    "LoadgenFigures",
    "LoadgenGuard",
    "LocustTotals",
    "MachineInfo",
    "MatrixRecord",
    "Metadata",
    "OpenLoopFigures",
    "PairProgress",
    "PassOrder",
    "Progress",
    "Record",
    "RepeatRecord",
    "RowCheck",
    "RunDocument",
    "RunOptionsRecord",
    "SchedFigures",
    "ScheduleCheck",
    "ServerFigures",
    "Spread",
    "Steadiness",
    "StoppingRecord",
    "SwitchFigures",
    "WindowIntervals",
    "ceiling_from_json",
]
