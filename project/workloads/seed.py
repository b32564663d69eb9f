"""The benchmark's data: 10,000 World rows and TechEmpower's 12 fortunes; an empty ledger."""

import random

from django.db import transaction

from project.workloads.models import Fortune, Ledger, World
from project.workloads.responses import WORLD_ROWS

FORTUNES = [
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. — Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    '<script>alert("This should not be displayed in a browser alert box.");</script>',
    "フレームワークのベンチマーク",
]


def is_seeded() -> bool:
    return World.objects.count() == WORLD_ROWS and Fortune.objects.count() == len(FORTUNES)


@transaction.atomic
def seed(*, force: bool = False) -> bool:
    """Fill both tables unless they already hold the expected rows.

    Returns whether anything was written. Deterministic (a fixed seed), so two
    machines seeded this way start from the same data. The ledger only grows
    (the write check counts rows added, not rows present) and is emptied when
    seeding from scratch.
    """
    if is_seeded() and not force:
        return False
    rng = random.Random(0)
    Ledger.objects.all().delete()
    World.objects.all().delete()
    Fortune.objects.all().delete()
    World.objects.bulk_create(
        [World(id=i, randomnumber=rng.randint(1, WORLD_ROWS)) for i in range(1, WORLD_ROWS + 1)],
        batch_size=1000,
    )
    Fortune.objects.bulk_create(
        [Fortune(id=i, message=message) for i, message in enumerate(FORTUNES, start=1)]
    )
    return True
