"""Caveats that recur cell after cell, said once with their range: committed runs."""

from pathlib import Path

from bench.report import caveats, contents, noise

ROOT = Path(__file__).resolve().parents[3]
RUN_A = ROOT / "tests" / "fixtures" / "runs" / "run_a"
FULL_RUN = ROOT / "docs" / "runs" / "20261202T072517Z-bench"  # a committed `make bench`
PG_RUN = ROOT / "docs" / "runs" / "20261202T071255Z-pg-db"  # a run on a noisy host


def test_a_quiet_run_says_no_noise():
    # run_a's repeats agree within 3% and nothing was stolen: no grouped line
    built = contents.read(RUN_A)
    assert not any(
        note.startswith(("Repeats disagree", "The load generator's CPU")) for note in built.caveats
    )


def test_steal_and_spread_are_said_once_with_their_range():
    # Read off the cells: 8 cells had a repeat with 5% to 23% stolen (the guard
    # noted each); all 14 measured cells' throughput spread is 11% to 62%.
    built = contents.read(PG_RUN)
    steal = [note for note in built.caveats if "stolen" in note]
    assert steal == [
        "The load generator's CPU had 5-23% of its time stolen by the host in 8 cells "
        "(at most, over their repeats): a shared machine, whose other tenants also widen "
        "the spread between repeats."
    ]
    (spread,) = [note for note in built.caveats if note.startswith("Repeats disagree")]
    assert "throughput varies 11-62% between repeats across 14 cells (above 5% in 14)" in spread
    # each cell's own line is kept below the table
    assert sum("CPU time was stolen" in note for note in built.cell_notes) == 8


def test_a_full_bench_keeps_serious_notes_and_counts_the_rest():
    built = contents.read(FULL_RUN)
    cells = contents.ordered_cells(built.run)
    every = [note for cell in cells for note in caveats.cell_caveats(cell)]
    assert built.cell_notes == every  # nothing dropped, only moved
    assert (
        "The open-loop searches measured 30 cells in only some of their passes (figures "
        "from fewer repeats) and left 8 unmeasured (rates no pass needed)." in built.caveats
    )
    # the one load-generator-bound cell is still named among the caveats
    bound = [note for note in built.caveats if "load-generator bound in repeats" in note]
    assert [note.split(":")[0] for note in bound] == ["json.json.gunicorn-gthread.sync.none.u32"]
    assert not any("varies" in note and note.startswith(("io.", "json.")) for note in built.caveats)
    assert len(built.caveats) < len(every) / 4


def test_a_range_of_one_value_is_one_figure():
    assert noise.percent_range([5.2, 4.8]) == "5%"
    assert noise.percent_range([3.0, 41.4, 7.0]) == "3-41%"


def test_guard_notes_are_grouped_by_text():
    notes = {
        "a": [("loadgen", "a: no calibrated ceiling for this load.")],
        "b": [("loadgen", "b: no calibrated ceiling for this load.")],
    }
    lines = noise.grouped([], notes)
    assert (
        lines[0]
        == 'The load generator\'s guard noted "no calibrated ceiling for this load" in 2 cells.'
    )
