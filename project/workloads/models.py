"""The two TechEmpower tables, World (10,000 rows) and Fortune (12 rows), and
the ledger the insert-atomic workload appends to (empty when seeded)."""

from django.db import models


class World(models.Model):
    randomnumber = models.IntegerField()

    class Meta:
        db_table = "world"


class Fortune(models.Model):
    message = models.CharField(max_length=2048)

    class Meta:
        db_table = "fortune"


class Ledger(models.Model):
    """One row per successful insert-atomic request: the World row it changed and
    the number it set. The harness counts this table's rows before and after a
    repeat, so every write that landed is accounted for."""

    world_id = models.IntegerField()
    randomnumber = models.IntegerField()

    class Meta:
        db_table = "ledger"
