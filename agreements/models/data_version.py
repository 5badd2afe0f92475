"""The data version: one row the database changes with every write (the one source of freshness)."""

from django.db import connection, models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# What makes a DataVersion change: any write to a table the API or the pages
# show. The same statement in the triggers of migration 0015 (PostgreSQL: one
# per statement, before it; SQLite: one per row) and in DataVersion.lock().
# The value only grows, and after the row was lost (a TRUNCATE) it starts from
# the clock, above every value issued before.
_DATA_VERSION_BUMP = {
    "postgresql": (
        "INSERT INTO agreements_dataversion (id, value) "
        "VALUES (1, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint) "
        "ON CONFLICT (id) DO UPDATE SET value = GREATEST(agreements_dataversion.value + 1, excluded.value)"
    ),
    "sqlite": (
        "INSERT INTO agreements_dataversion (id, value) "
        "VALUES (1, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)) "
        "ON CONFLICT (id) DO UPDATE SET value = MAX(agreements_dataversion.value + 1, excluded.value)"
    ),
}


_CURRENT = "SELECT value FROM agreements_dataversion WHERE id = 1"


class DataVersion(models.Model):
    """One row whose ``value`` changes, in the writing transaction, with every
    write to the registry's tables (database triggers, so raw SQL, bulk loads
    and ``QuerySet.update()`` count too). It names the state of the data: API
    list ETags, cached answers and the list page's filter choices are keyed by
    it, so checking whether a cached answer is current costs one primary-key
    read instead of a scan of the rows it shows.

    On PostgreSQL every writing statement first takes this row's lock, so
    writes are serialised, the price of an exact, cheap version for a registry
    that is read far more than written. Code that locks rows before writing
    takes this row first (``lock()``), in the same order as the triggers, so
    two writers cannot deadlock."""

    value = models.BigIntegerField()

    class Meta:
        verbose_name = _("data version")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="dataversion_single_row")]

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def current(cls) -> int:
        # Read on every API and page request, cached answers included: plain
        # SQL (building the ORM query cost more than running it).
        with connection.cursor() as cursor:
            cursor.execute(_CURRENT)
            row = cursor.fetchone()
        value = row[0] if row else None
        if value is None:  # the row was lost (a test's flush): start it again from the clock
            cls._bump()
            value = cls.objects.values_list("value", flat=True).get(pk=1)
        return value

    @classmethod
    def lock(cls) -> None:
        """Take the row's lock for the rest of the transaction, as a write's trigger would."""
        if cls.objects.select_for_update().filter(pk=1).values_list("pk", flat=True).first() is None:
            cls._bump()

    @classmethod
    def _bump(cls) -> None:
        with connection.cursor() as cursor:
            cursor.execute(_DATA_VERSION_BUMP[connection.vendor])


def locked_for_update(queryset: models.QuerySet) -> models.QuerySet:
    """``select_for_update()`` after the data version's lock (see ``DataVersion``)."""
    DataVersion.lock()
    return queryset.select_for_update()
