import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation

from agreements.services import expiry_reminders_send


class Command(BaseCommand):
    help = (
        "E-mail the members of each party organisation when a signed agreement enters its notice period, "
        "in the organisation's language, with a link to the record under DJANGO_SITE_URL. "
        "Each reminder is sent once per agreement, organisation and end date; run it daily."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List what would be sent; send nothing.")
        parser.add_argument("--today", metavar="YYYY-MM-DD", help="Act as if today were this date.")

    @translation.override("en")
    def handle(self, *args, dry_run, today, **options):
        if today:
            try:
                day = datetime.date.fromisoformat(today)
            except ValueError:
                raise CommandError(f"--today {today!r} is not a date like 2026-11-26.") from None
        else:
            day = timezone.localdate()
        if not dry_run and not settings.SITE_URL:
            raise CommandError(
                "DJANGO_SITE_URL (or DJANGO_CSRF_TRUSTED_ORIGINS) is not set: reminders link to the record "
                "and need the registry's address. Nothing was sent."
            )
        report = expiry_reminders_send(today=day, dry_run=dry_run)
        for line in report:
            self.stdout.write(("would send " if dry_run else "sent ") + line)
        self.stdout.write(f"{len(report)} reminder(s) {'to send' if dry_run else 'sent'}.")
