"""The progress display: a bar on a terminal, one plain line per measurement elsewhere."""

import io

from rich.console import Console

from bench.run import progress


def test_off_a_terminal_each_finished_measurement_is_one_plain_line(capsys, monkeypatch):
    monkeypatch.setattr(progress, "console", Console(file=io.StringIO(), force_terminal=False))
    with progress.RunProgress(total=2) as bar:
        bar.begin("json.json.uvicorn.async.none.u32 r1")
        bar.throughput(2_000, 2.0)
        bar.done("json.json.uvicorn.async.none.u32 r1: 1,000 req/s")
        bar.say("note: a plain line")
    assert capsys.readouterr().out == (
        "json.json.uvicorn.async.none.u32 r1: 1,000 req/s\nnote: a plain line\n"
    )
    assert progress.console.file.getvalue() == ""  # no bar drawn into a log


def test_on_a_terminal_the_bar_counts_and_the_lines_print_above_it(capsys, monkeypatch):
    screen = io.StringIO()
    monkeypatch.setattr(progress, "console", Console(file=screen, force_terminal=True, width=120))
    with progress.RunProgress(total=3) as bar:
        bar.begin("cell-a")
        bar.throughput(3_000, 2.0)
        bar.done("cell-a: finished")
    drawn = screen.getvalue()
    assert "cell-a: finished" in drawn
    assert "1/3" in drawn and "cell-a  1,500 req/s" in drawn
    assert capsys.readouterr().out == ""  # everything went through rich
