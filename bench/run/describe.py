"""One line per repeat for the console: its figures, or why it has none."""

from bench.results.records import RepeatRecord


def describe_repeat(record: RepeatRecord) -> str:
    """The repeat's throughput, p99, CPU and hops, with every flag it raised."""
    if not record.ok or record.latency_ms is None or record.server is None:
        return f"{record.status.upper()}: {record.first_reason_line}"
    p99 = record.latency_ms.p99
    p99_text = f"{p99:.1f} ms" if p99 is not None else "beyond every answer"
    text = (
        f"{record.throughput_rps:,.0f} req/s, p99 {p99_text}, "
        f"CPU {record.server.cpu_ms_per_request or 0:.3f} ms/req"
    )
    switches = record.switches
    if switches and switches.sync_to_async_per_request is not None:
        text += (
            f", hops/req {switches.sync_to_async_per_request:.1f} s2a"
            f" + {switches.async_to_sync_per_request:.1f} a2s"
        )
    schedule = record.open_loop
    if schedule:
        text = f"offered {schedule.offered_rps:g}/s: " + text.replace("p99", "p99 from due", 1)
        if schedule.unanswered:
            text += f", unanswered {schedule.unanswered} of {schedule.scheduled}"
        if schedule.dropped:
            text += f", dropped {schedule.dropped}"
        if not schedule.latency_from_due:
            text += "  [LATENCY FROM SENDING: requests made outside the schedule]"
        if not schedule.sustainable:
            text += "  [UNSUSTAINABLE: " + "; ".join(schedule.unsustainable_reasons) + "]"
    if record.error_rate:
        text += f", errors {record.error_rate:.1%}"
    if record.db is not None and record.db.connections_peak is not None:
        text += f", db connections peak {record.db.connections_peak}"
    if record.loadgen is not None and record.loadgen.bound:
        text += "  [LOADGEN-BOUND: " + "; ".join(record.loadgen.bound_reasons) + "]"
    return text
