import pytest

from bench.errors import UsageError
from bench.plan import matrix, scenarios
from bench.serve import servers


@pytest.fixture(scope="module")
def shipped():
    return scenarios.discover()


def test_cell_ids_are_stable_and_readable():
    cell = matrix.Cell("db", "queries", "uvicorn", "async", "none", 32, "pool4")
    assert cell.id == "db.queries.uvicorn.async.none.u32.pool4"
    assert matrix.Cell("json", "json", "uvicorn", "sync", "django", 8).id == (
        "json.json.uvicorn.sync.django.u8"
    )
    assert matrix.Cell.from_dict(cell.to_dict()) == cell


def test_default_matrix_is_a_subset_of_the_full_one(shipped):
    default = matrix.expand(shipped.values(), matrix.Selection())
    full = matrix.expand(shipped.values(), matrix.Selection(full=True))
    assert set(c.id for c in default.cells) < set(c.id for c in full.cells)
    assert len({c.id for c in full.cells}) == len(full.cells)
    # Every shipped scenario appears in the default matrix.
    assert {c.scenario for c in default.cells} == set(shipped)


def test_the_command_line_narrows(shipped):
    selection = matrix.Selection(servers=("uvicorn",), styles=("async",), users=(7,), full=True)
    cells = matrix.expand([shipped["json"]], selection).cells
    assert {(c.server, c.style, c.users) for c in cells} == {("uvicorn", "async", 7)}
    assert {c.endpoint for c in cells} == {"json", "plaintext"}
    stacks = matrix.expand([shipped["middleware"]], matrix.Selection(stacks=("mixed",), full=True))
    assert {c.stack for c in stacks.cells} == {"mixed"}


def test_scenario_excludes_and_persistent_connections_under_asgi(shipped):
    default = matrix.expand([shipped["io"]], matrix.Selection())
    assert ("gunicorn-gthread", "async") not in {(c.server, c.style) for c in default.cells}
    postgres = matrix.expand([shipped["db"]], matrix.Selection(full=True, postgres=True))
    persistent = [c for c in postgres.cells if c.db_mode == "persistent"]
    assert persistent and all(servers.get(c.server).interface == "wsgi" for c in persistent)
    assert {c.db_mode for c in postgres.cells} == {"none", "persistent", "pool4", "pool16"}
    sqlite = matrix.expand([shipped["db"]], matrix.Selection(full=True))
    assert {c.db_mode for c in sqlite.cells} == {"sqlite"}


def test_an_empty_selection_is_noted(shipped):
    result = matrix.expand([shipped["middleware"]], matrix.Selection(servers=("gunicorn-asgi",)))
    assert not result.cells
    assert "no cells" in result.notes[0]


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        (matrix.Selection(servers=("nginx",)), "valid servers: gunicorn-sync"),
        (matrix.Selection(styles=("both",)), "valid styles: sync, async"),
        (matrix.Selection(stacks=("fast",)), "valid stacks: none, django"),
        (matrix.Selection(users=(0,)), "--users must be >= 1"),
    ],
)
def test_unknown_choices_name_the_valid_ones(shipped, selection, message):
    with pytest.raises(UsageError, match=message):
        matrix.expand(shipped.values(), selection)


def test_optional_servers_that_are_missing_are_skipped_with_a_note(shipped, monkeypatch):
    monkeypatch.setattr(servers.ServerSpec, "available", lambda self: not self.optional)
    result = matrix.expand([shipped["json"]], matrix.Selection(servers=("hypercorn", "uvicorn")))
    assert {c.server for c in result.cells} == {"uvicorn"}
    assert any("hypercorn" in note and "not installed" in note for note in result.notes)


def test_rates_make_open_loop_cells_with_their_own_ids(shipped):
    selection = matrix.Selection(
        servers=("uvicorn",), styles=("async",), endpoints=("io50",), rates=(50, 200)
    )
    cells = matrix.expand([shipped["io"]], selection).cells
    assert [cell.id for cell in cells] == [
        "io.io50.uvicorn.async.none.r50",
        "io.io50.uvicorn.async.none.r200",
    ]
    assert [cell.users for cell in cells] == [25, 100]  # the pool: Little's law
    pooled = matrix.expand(
        [shipped["io"]], matrix.Selection(servers=("uvicorn",), rates=(50,), users=(64,))
    ).cells
    assert {cell.users for cell in pooled} == {64}


def test_a_bad_rate_is_one_clear_error():
    with pytest.raises(UsageError, match="--rate must be >= 1"):
        matrix.validate(matrix.Selection(rates=(0,)))
    with pytest.raises(UsageError, match="one value"):
        matrix.validate(matrix.Selection(rates=(10,), users=(1, 2)))
