"""A cost run's report: the table, the change by release, the chart's bars."""

from bench.cost.records import CostCell, CostDocument, CostRepeat, CostSettingsRecord
from bench.plan.matrix import Cell
from bench.report import cost_pages


def _cell(server: str, style: str, release: str, value: float, interface: str) -> CostCell:
    return CostCell(
        cell=Cell("json", "json", server, style, "none", 1),
        server={"interface": interface},
        status="ok",
        release=release,
        repeats=[CostRepeat(index=1, instructions_per_request=value)],
    )


def _document() -> CostDocument:
    return CostDocument(
        status="complete",
        settings=CostSettingsRecord(low_requests=200, high_requests=600, repeats=1),
        cells=[
            _cell("gunicorn-gthread", "sync", "django 5.2.19", 1_000_000, "wsgi"),
            _cell("uvicorn", "async", "django 5.2.19", 2_000_000, "asgi"),
            _cell("gunicorn-gthread", "sync", "django 6.1.3", 1_100_000, "wsgi"),
            _cell("uvicorn", "async", "django 6.1.3", 1_900_000, "asgi"),
        ],
    )


def test_each_cell_across_releases_with_its_change_from_the_first():
    document = _document()
    assert cost_pages.releases(document) == ["django 5.2.19", "django 6.1.3"]
    assert cost_pages.by_release(document) == [
        ("json.json.gunicorn-gthread.sync.none.u1", ["1.000 M", "1.100 M (+10.0%)"]),
        ("json.json.uvicorn.async.none.u1", ["2.000 M", "1.900 M (-5.0%)"]),
    ]


def test_the_ratio_to_wsgi_sync_is_taken_within_each_release(tmp_path):
    path = cost_pages.write(tmp_path, _document(), charts=False)
    text = path.read_text()
    # 2.0 / 1.0 in 5.2, 1.9 / 1.1 in 6.1
    assert "| `json.json.uvicorn.async.none.u1` | django 5.2.19 | 2.000 M | 1 | - | x2.00 |" in text
    assert "| `json.json.uvicorn.async.none.u1` | django 6.1.3 | 1.900 M | 1 | - | x1.73 |" in text
    assert "## By release" in text


def test_the_chart_has_a_bar_per_cell_and_release(tmp_path):
    bars = cost_pages.chart_bars(_document())
    assert len(bars) == 4 and bars[1] == ("json\nuvicorn async none", "django 5.2.19", 2_000_000)
    cost_pages.write(tmp_path, _document())
    assert (tmp_path / "charts" / "cost.png").stat().st_size > 1000
