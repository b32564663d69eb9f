"""``python -m project setupdb``: create the tables and seed them (idempotent)."""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from project.workloads.seed import seed


class Command(BaseCommand):
    help = "Create the benchmark tables and seed them; does nothing when already seeded."

    def add_arguments(self, parser):
        parser.add_argument("--reseed", action="store_true", help="seed again from scratch")

    def handle(self, *args, reseed: bool = False, **options):
        database = settings.DATABASES["default"]
        if database["ENGINE"].endswith("sqlite3"):
            Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        wrote = seed(force=reseed)
        where = database["NAME"]
        self.stdout.write(f"database {where}: {'seeded' if wrote else 'already seeded'}")
