"""Remove change feed entries older than CHANGE_FEED_RETENTION_DAYS (run daily)."""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from agreements.models import Change, ChangeFeedState


class Command(BaseCommand):
    help = "Remove change feed entries older than CHANGE_FEED_RETENTION_DAYS; older cursors then answer 410."

    def handle(self, *args, **options):
        cutoff = timezone.now() - datetime.timedelta(days=settings.CHANGE_FEED_RETENTION_DAYS)
        with transaction.atomic():
            old = Change.objects.filter(changed_at__lt=cutoff)
            last = old.aggregate(last=Max("pk"))["last"]
            if last is None:
                self.stdout.write(f"Change feed: nothing older than {settings.CHANGE_FEED_RETENTION_DAYS} days.")
                return
            # Everything up to the last old entry goes, so the feed has no hole after a kept entry.
            deleted, _ = Change.objects.filter(pk__lte=last).delete()
            state, _ = ChangeFeedState.objects.get_or_create(pk=1)
            state.pruned_through = max(state.pruned_through, last)
            state.save(update_fields=["pruned_through"])
        self.stdout.write(f"Change feed: {deleted} entries removed; cursors before {last} now answer 410.")
