"""strace's table read, and two windows differenced into calls per request."""

import pytest

from bench.cli import formatter
from bench.cost import syscalls
from bench.cost.records import CostCell, CostDocument, SyscallCount
from bench.plan.matrix import Cell

# strace pads a blank errors column with spaces to the line's end.
TABLE = "\n".join(
    [
        "syscall              calls    errors",
        "---------------- --------- ---------",
        "epoll_wait             154          ",
        "futex                  310        12",
        "sendto                 150          ",
        "recvfrom               300       150",
        "---------------- --------- ---------",
        "total                  914       162",
    ]
)


def test_the_table_is_read_by_name_with_blank_errors_as_zero_and_no_total():
    assert syscalls.parse_summary(TABLE) == {
        "epoll_wait": (154, 0),
        "futex": (310, 12),
        "sendto": (150, 0),
        "recvfrom": (300, 150),
    }


def test_an_empty_or_missing_table_reads_as_no_calls():
    assert syscalls.parse_summary("") == {}
    assert syscalls.parse_summary("strace: Process 7 attached\n") == {}


def test_two_windows_differenced_give_calls_per_request_most_first():
    low = {"epoll_wait": (54, 0), "futex": (110, 4), "recvfrom": (100, 50), "openat": (3, 1)}
    high = syscalls.parse_summary(TABLE)
    count = syscalls.difference(50, 150, low, high)
    assert [(r.name, r.calls, r.errors) for r in count.rates] == [
        ("futex", 2.0, 0.08),
        ("recvfrom", 2.0, 1.0),
        ("sendto", 1.5, 0.0),
        ("epoll_wait", 1.0, 0.0),
        ("openat", -0.03, -0.01),  # once in the low window only: a one-off, not a rate
    ]
    assert count.per_request == pytest.approx(6.47)


def test_the_printed_line_leaves_out_calls_that_round_to_none():
    count = syscalls.difference(50, 150, {"openat": (1, 0)}, syscalls.parse_summary(TABLE))
    cell = CostCell(cell=Cell("json", "json", "uvicorn", "async", "none", 1), syscalls=count)
    (line,) = formatter.cost_syscalls(CostDocument(cells=[cell]), top=2)
    assert line == (
        "json.json.uvicorn.async.none.u1: 9.1 system calls/request (futex 3.10, recvfrom 3.00)"
    )
    assert isinstance(count, SyscallCount)
