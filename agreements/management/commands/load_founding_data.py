from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import translation

from agreements.founding import load_founding_data


class Command(BaseCommand):
    help = (
        "Load the founding example (the 2021 Saxon delegation trip to Poland). Idempotent: running it "
        "again changes nothing, and records staff have edited or deleted since are skipped and reported."
    )

    @translation.override("en")  # operators read English, whatever ran before
    def handle(self, *args, **options):
        try:
            report = load_founding_data()
        except DatabaseError as exc:
            raise CommandError(f"Founding data not loaded, nothing was changed: {exc}") from exc
        for label in report.created:
            self.stdout.write(f"  created   {label}", self.style.SUCCESS)
        for label in report.updated:
            self.stdout.write(f"  updated   {label}", self.style.SUCCESS)
        for label in report.skipped:
            self.stdout.write(f"  skipped   {label}", self.style.WARNING)
        if options["verbosity"] > 1:
            for label in report.unchanged:
                self.stdout.write(f"  unchanged {label}")
        self.stdout.write(
            f"Founding data: {len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged, {len(report.skipped)} skipped."
        )
