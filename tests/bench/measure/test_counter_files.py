"""The harness reads the project's switch counters from their files, no request."""

from bench.measure import counter_files


def test_totals_sum_every_process_file_by_the_layout_the_server_wrote(tmp_path, monkeypatch):
    from project import accounting

    monkeypatch.setattr(accounting, "_directory", tmp_path)
    accounting._describe_layout(tmp_path)
    first = accounting.Counters(tmp_path / f"111{accounting._SUFFIX}")
    second = accounting.Counters(tmp_path / f"222{accounting._SUFFIX}")
    first.add(accounting._REQUESTS, 3)
    second.add(accounting._REQUESTS, 4)
    second.add_hop(accounting._S2A, True, 5_000)
    totals = counter_files.read_totals(tmp_path)
    assert totals is not None
    assert totals == accounting.read_directory(tmp_path)["totals"]
    assert totals["requests"] == 7 and totals["sync_to_async"] == 1
    assert totals["sync_to_async_ns"] == 5_000


def test_no_layout_means_no_totals(tmp_path):
    assert counter_files.read_totals(tmp_path) is None
    (tmp_path / "layout.json").write_text("{not json")
    assert counter_files.read_totals(tmp_path) is None
