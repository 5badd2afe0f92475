"""The change feed: every change to a record the API shows, written by the
database in the transaction that makes it (``GET /api/v1/changes/``)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .base import RestrictedQuerySet


class ChangeKind(models.TextChoices):
    """What a feed entry says to its reader (``Change.kind_for``)."""

    CREATED = "created", _("created")
    UPDATED = "updated", _("updated")
    DELETED = "deleted", _("deleted")
    PUBLISHED = "published", _("published")
    UNPUBLISHED = "unpublished", _("unpublished")
    REMOVED_FROM_VIEW = "removed_from_view", _("removed from your view")


class Change(models.Model):
    """One write to one record, as the database saw it (triggers of migration
    0020 on every table the API shows: ORM saves, bulk updates, raw SQL and
    restores alike; a rolled-back write leaves no entry). Writers take the data
    version's lock first (``DataVersion``), so ids are given in commit order:
    ``id`` is the feed's cursor.

    Who may see the record before and after the write is kept with it
    (published or not; the organisations whose members see it, as ``,3,7,``),
    so that ``access`` decides for each reader what the entry tells: a change
    to a record the reader never saw is not in its feed. A deleted agreement
    was seen, before the deletion removed its parties, by those parties: its
    DELETE entry names them (``feed_triggers.REMOVE``), so each learns it was
    deleted."""

    resource = models.CharField(_("resource"), max_length=20)
    record_id = models.BigIntegerField(_("record id"))
    slug = models.CharField(_("slug"), max_length=120)
    operation = models.CharField(_("operation"), max_length=7)  # insert, update, remove (a part), delete
    published_before = models.BooleanField(_("visible to the public before"))
    published_after = models.BooleanField(_("visible to the public after"))
    organisations_before = models.TextField(_("organisations that saw it before"), default=",")
    organisations_after = models.TextField(_("organisations that see it after"), default=",")
    changed_at = models.DateTimeField(_("changed at"))

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        indexes = [
            models.Index(fields=["changed_at"], name="change_changed_at"),
            # A record's own entries: an agreement's deletion reads who saw it (``feed_triggers.REMOVE``).
            models.Index(fields=["record_id"], name="change_record"),
        ]

    def __str__(self) -> str:
        return f"{self.pk} {self.operation} {self.resource} {self.slug}"

    def kind_for(self, organisation_ids, sees_everything: bool = False) -> str:
        """The entry as one reader tells it (a reader who saw the record before, or sees it now):
        a deleted record is "deleted"; one it can no longer see "removed_from_view", whatever else
        the write was (a part removed, such as its party row, is an update of the record)."""
        if self.operation == "insert":
            return ChangeKind.CREATED
        if self.operation == "delete":
            return ChangeKind.DELETED
        after = sees_everything or self.published_after or _any_of(organisation_ids, self.organisations_after)
        if not after:
            return ChangeKind.REMOVED_FROM_VIEW
        if self.published_after and not self.published_before:
            return ChangeKind.PUBLISHED
        if self.published_before and not self.published_after:
            return ChangeKind.UNPUBLISHED
        return ChangeKind.UPDATED


def _any_of(organisation_ids, organisations: str) -> bool:
    return any(f",{pk}," in organisations for pk in organisation_ids)


class ChangeFeedState(models.Model):
    """One row: entries up to ``pruned_through`` were removed by retention
    (a cursor before it is answered 410: resync from the lists)."""

    pruned_through = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("change feed state")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="changefeedstate_single_row")]

    def __str__(self) -> str:
        return str(self.pruned_through)
