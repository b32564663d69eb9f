"""How each view style waits for the database: the only code that differs.

Every sync function has an async twin with the same name prefixed by ``a``,
written the way Django's documentation shows (a-prefixed ORM methods,
``async for``). Transactions have no async form in Django, so the async atomic
update and the async ledger insert call their sync twin through sync_to_async,
the documented pattern.
"""

from asgiref.sync import sync_to_async
from django.db import transaction

from project.workloads.models import Fortune, Ledger, World


def world(world_id: int) -> World:
    return World.objects.get(id=world_id)


async def aworld(world_id: int) -> World:
    return await World.objects.aget(id=world_id)


def worlds(ids: list[int]) -> list[World]:
    return [World.objects.get(id=world_id) for world_id in ids]


async def aworlds(ids: list[int]) -> list[World]:
    return [await World.objects.aget(id=world_id) for world_id in ids]


def fortunes() -> list[Fortune]:
    return list(Fortune.objects.all())


async def afortunes() -> list[Fortune]:
    return [fortune async for fortune in Fortune.objects.all()]


def update_worlds(plan: list[tuple[int, int]]) -> list[World]:
    """Read each row, give it its new number, save it (one statement each)."""
    updated = []
    for world_id, number in plan:
        row = World.objects.get(id=world_id)
        row.randomnumber = number
        row.save(update_fields=["randomnumber"])
        updated.append(row)
    return updated


async def aupdate_worlds(plan: list[tuple[int, int]]) -> list[World]:
    updated = []
    for world_id, number in plan:
        row = await World.objects.aget(id=world_id)
        row.randomnumber = number
        await row.asave(update_fields=["randomnumber"])
        updated.append(row)
    return updated


def update_worlds_atomic(plan: list[tuple[int, int]]) -> list[World]:
    """The same updates in one transaction."""
    with transaction.atomic():
        return update_worlds(plan)


async def aupdate_worlds_atomic(plan: list[tuple[int, int]]) -> list[World]:
    # One sync function holding the whole atomic block, called once: the
    # transaction cannot span several sync_to_async calls.
    return await sync_to_async(update_worlds_atomic)(plan)


def insert_atomic(world_id: int, number: int) -> World:
    """Append one ledger row and give its World row the new number, in one
    transaction: both land or neither does. The row is locked before it is
    read (SELECT ... FOR UPDATE on PostgreSQL; SQLite's immediate transactions
    already serialize writers), so concurrent requests cannot lose an update.
    A World row that does not exist raises after the insert, which is then
    rolled back."""
    with transaction.atomic():
        Ledger.objects.create(world_id=world_id, randomnumber=number)
        row = World.objects.select_for_update().get(id=world_id)
        row.randomnumber = number
        row.save(update_fields=["randomnumber"])
    return row


async def ainsert_atomic(world_id: int, number: int) -> World:
    # Django's documented pattern: the whole atomic block is one sync function,
    # called once through sync_to_async (a transaction cannot span calls).
    return await sync_to_async(insert_atomic)(world_id, number)


# Database CPU with a known answer. PostgreSQL spins in the backend until its
# own on-CPU time (/proc/self/schedstat, read through pg_read_file: the harness
# connects as a superuser) has grown by ``ms``: CPU time, not wall time, so the
# answer holds however busy the machine is. The kernel updates that figure at
# each scheduler tick, so one request overshoots or falls short by up to a
# tick, evenly either way: the mean over many requests is ``ms``. SQLite (the
# suite's in-process tests) has no such clock: there a recursive count stands
# in, with no known answer.
_SPIN_SQL = """
DO $$
DECLARE
    start bigint := split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::bigint;
BEGIN
    LOOP
        EXIT WHEN split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::bigint - start
            >= {ns};
    END LOOP;
END
$$
"""
_COUNT_SQL = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %s) "
    "SELECT count(*) FROM c"
)


def db_burn(ms: int) -> int:
    """Make the database spend ``ms`` of its own CPU (PostgreSQL); the ms asked for."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ms is an int bounded by params.DB_BURN_MS: nothing of the request's text reaches SQL
            cursor.execute(_SPIN_SQL.format(ns=int(ms) * 1_000_000))
        else:
            cursor.execute(_COUNT_SQL, [int(ms) * 100])
            cursor.fetchone()
    return ms


async def adb_burn(ms: int) -> int:
    return await sync_to_async(db_burn)(ms)
