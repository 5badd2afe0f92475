"""Agreements, their parties and signatories, and the expiry reminders sent about them."""

import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, OuterRef, Q, StringAgg, Subquery, Value
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..choices import (
    AgreementKind,
    AgreementStatus,
    DatePrecision,
    PartyRole,
    SuccessionKind,
)

if TYPE_CHECKING:
    from ..access import Viewer
from ..search import Lines, SearchTextField, folded
from .base import RestrictedQuerySet, TimeStampedModel, language_field, precision_matches, some_translation, translated
from .documents import AgreementDocument
from .organisations import Organisation, Person, Topic
from .trips import SigningEvent


def search_document() -> dict:
    """The searchable text of an agreement, as SQL expressions for its two
    columns, folded (``agreements.search``): ``search_text`` holds the titles,
    the parties' names, short names, regions and cities, the signing event's
    city and venue, the summaries and the objectives, in every language, one
    per line; ``search_title`` the titles alone, each on a line of its own
    (for ranking). One definition, written by ``save()``,
    ``refresh_derived()``, migration 0023 and ``generate_registry``."""
    parties = (
        AgreementParty.objects.filter(agreement=OuterRef("pk"))
        .values("agreement")
        .annotate(
            text=StringAgg(
                Lines("organisation__name", "organisation__short_name", "organisation__region", "organisation__city"),
                Value("\n"),
            )
        )
        .values("text")
    )
    place = SigningEvent.objects.filter(pk=OuterRef("signing_event_id")).values(text=Lines("city", "venue"))
    text = Lines(
        *Agreement.title.fields,
        Subquery(parties),
        Subquery(place),
        *Agreement.summary.fields,
        *Agreement.objectives.fields,
    )
    title = Lines(Value(""), *Agreement.title.fields, Value(""))
    return {"search_text": folded(text), "search_title": folded(title)}


# Agreements the public may see: public ones that were signed.
PUBLISHED = Q(is_public=True, status__in=AgreementStatus.concluded())


# "Newest first": by the effective signing date, undated drafts last on every
# database (PostgreSQL would put NULLs first), the latest record first on a tie.
NEWEST_FIRST = (F("signed_date").desc(nulls_last=True), F("id").desc())
OLDEST_FIRST = (F("signed_date").asc(nulls_last=True), F("id").asc())


def expired_on(day: datetime.date) -> Q:
    """The derived status "expired": signed agreements whose validity ran out before ``day``
    (``Agreement.is_expired`` is the same rule for one record)."""
    return Q(status=AgreementStatus.SIGNED, valid_until__lt=day)


class AgreementQuerySet(RestrictedQuerySet):
    def published(self):
        """Agreements the public may see: public ones that were signed."""
        return self.filter(PUBLISHED)

    def for_listing(self):
        """What a table of agreements shows (title, parties, topics, signing
        date or event): the related rows in three queries whatever the page size."""
        return (
            self.defer("search_text", "search_title")
            .select_related("signing_event")
            .prefetch_related(
                "topics", models.Prefetch("parties", queryset=AgreementParty.objects.select_related("organisation"))
            )
        )

    def with_related(self, viewer: "Viewer"):
        """The select/prefetch set that lists and detail pages need; nested
        people and documents are narrowed to what ``viewer`` may see."""
        return (
            self.defer("search_text", "search_title")
            .select_related("signing_event__trip")
            .prefetch_related(
                "topics",
                "sources",
                models.Prefetch("parties", queryset=AgreementParty.objects.select_related("organisation")),
                models.Prefetch(
                    "signatories",
                    queryset=Signatory.objects.filter(person__in=Person.objects.visible_to(viewer)).select_related(
                        "person", "organisation"
                    ),
                    to_attr="visible_signatories",
                ),
                models.Prefetch(
                    "documents", queryset=AgreementDocument.objects.visible_to(viewer), to_attr="visible_documents"
                ),
            )
        )

    def refresh_derived(self) -> int:
        """Recompute what is derived from related rows: the searchable text
        (``search_document()``: the parties' names are part of it) and
        ``updated_at`` (the parties are part of the agreement's record, which
        ``If-Match`` compares). Answers and pages are kept fresh by the data
        version, whatever the write."""
        return self.update(updated_at=timezone.now(), **search_document())

    def refresh_search(self) -> int:
        """Recompute the searchable text alone (a signing event's place changed:
        the agreement's own record did not)."""
        return self.update(**search_document())


class Agreement(TimeStampedModel):
    title = translated(models.CharField(_("title"), max_length=300))
    slug = models.SlugField(_("slug"), max_length=120)
    kind = models.CharField(
        _("kind"), max_length=30, choices=AgreementKind.choices, default=AgreementKind.COOPERATION_AGREEMENT
    )
    status = models.CharField(
        _("status"), max_length=15, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT, db_index=True
    )
    summary = translated(models.TextField(_("summary")))
    objectives = translated(models.TextField(_("objectives")))
    language = language_field()
    topics = models.ManyToManyField(Topic, verbose_name=_("topics"), blank=True, related_name="agreements")
    signed_on = models.DateField(_("signed on"), null=True, blank=True, db_index=True)
    signed_on_precision = models.CharField(
        _("signing date precision"), max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    signing_event = models.ForeignKey(
        SigningEvent,
        verbose_name=_("signing event"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agreements",
    )
    # The effective signing date: ``signed_on`` where the record states it,
    # else the signing event's date, each with its precision. Kept by the
    # database (triggers of migration 0017, so bulk updates, raw SQL and a
    # changed event date count too) and by ``save()`` for the instance in hand;
    # ordering, filters, pages, feeds, exports and JSON-LD read only these.
    signed_date = models.DateField(
        _("signing date"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "The effective signing date: “signed on” where the record states it, else the signing event’s date "
            "(the first of the month or year when only that is known)."
        ),
    )
    signed_date_precision = models.CharField(
        _("precision of the signing date"),
        max_length=5,
        choices=DatePrecision.choices,
        default=DatePrecision.DAY,
        editable=False,
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(
        _("valid until"),
        null=True,
        blank=True,
        help_text=_("Leave empty when no source states the end."),
    )
    indefinite = models.BooleanField(
        _("of indefinite duration"),
        default=False,
        help_text=_("Only when a source says there is no end date (an empty end is otherwise “not stated”)."),
    )
    is_public = models.BooleanField(
        _("public"), default=False, help_text=_("Public agreements appear on the public site once signed.")
    )
    published_at = models.DateTimeField(_("first published"), null=True, blank=True, editable=False)
    notice_period_days = models.PositiveIntegerField(
        _("notice period (days)"),
        null=True,
        blank=True,
        help_text=_("Members of the parties are reminded this many days before “valid until”."),
    )
    terminated_on = models.DateField(_("terminated on"), null=True, blank=True)
    termination_reason = models.TextField(_("reason for termination"), blank=True)
    predecessor = models.ForeignKey(
        "self",
        verbose_name=_("follows"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="successors",
        help_text=_("The earlier agreement this one renews, amends or supersedes."),
    )
    succession = models.CharField(
        _("relation to the earlier agreement"), max_length=12, choices=SuccessionKind.choices, blank=True
    )
    # The searchable text, folded (search_document(); trigram-indexed on PostgreSQL by migration 0023).
    search_text = SearchTextField(null=True, editable=False)
    search_title = models.TextField(null=True, editable=False)
    history = HistoricalRecords(
        m2m_fields=[topics],
        excluded_fields=["search_text", "search_title", "signed_date", "signed_date_precision"],
    )

    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = NEWEST_FIRST
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        # What the public sees is a small part of a large table: partial indexes
        # serve its default order, its ETag/count aggregate and the feed's order.
        # The default order's index (agreement_published_newest on NEWEST_FIRST)
        # is made by migration 0017 in each database's own terms: SQLite has no
        # NULLS LAST in an index, and PostgreSQL uses one only if it says so.
        indexes = [
            models.Index(fields=["updated_at"], condition=PUBLISHED, name="agreement_published_updated"),
            models.Index(fields=["-published_at", "-id"], condition=PUBLISHED, name="agreement_published_feed"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["slug"],
                name="agreement_unique_slug",
                violation_error_code="unique",
                violation_error_message=_("An agreement with this slug already exists."),
            ),
            models.CheckConstraint(
                condition=~Q(slug=""),
                name="agreement_slug_not_empty",
                violation_error_message=_("The slug must not be empty."),
            ),
            models.CheckConstraint(
                condition=some_translation("title"),
                name="agreement_has_title",
                violation_error_message=_("Give the title in at least one language."),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=AgreementKind.values),
                name="agreement_kind_valid",
                violation_error_message=_("Unknown kind of agreement."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=AgreementStatus.values),
                name="agreement_status_valid",
                violation_error_message=_("Unknown status."),
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_until__gte=F("valid_from")),
                name="agreement_valid_until_after_valid_from",
                violation_error_message=_("“Valid until” cannot be before “valid from”."),
            ),
            models.CheckConstraint(
                condition=Q(indefinite=False) | Q(valid_until__isnull=True),
                name="agreement_indefinite_has_no_end",
                violation_error_message=_("An agreement of indefinite duration has no “valid until” date."),
            ),
            models.CheckConstraint(
                condition=~Q(status__in=AgreementStatus.concluded())
                | Q(signed_on__isnull=False)
                | Q(signing_event__isnull=False),
                name="agreement_signed_has_date_or_event",
                violation_error_message=_("A signed agreement needs a signing date or a signing event."),
            ),
            models.CheckConstraint(
                condition=~Q(status=AgreementStatus.TERMINATED)
                | (Q(terminated_on__isnull=False) & ~Q(termination_reason="")),
                name="agreement_terminated_has_date_and_reason",
                violation_error_message=_("A terminated agreement needs a termination date and a reason."),
            ),
            models.CheckConstraint(
                condition=Q(predecessor__isnull=True, succession="")
                | (Q(predecessor__isnull=False) & Q(succession__in=SuccessionKind.values)),
                name="agreement_succession_complete",
                violation_error_message=_("Say how the agreement relates to the one it follows, and which one."),
            ),
            models.CheckConstraint(
                condition=~Q(predecessor=F("pk")),
                name="agreement_not_own_predecessor",
                violation_error_message=_("An agreement cannot follow itself."),
            ),
            models.CheckConstraint(
                condition=Q(signed_on_precision__in=DatePrecision.values)
                & precision_matches("signed_on", "signed_on_precision"),
                name="agreement_signed_on_precision",
                violation_error_message=_(
                    "A date known only to the month must be the 1st of the month; "
                    "one known only to the year must be 1 January."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        self.signed_date, self.signed_date_precision = self.effective_signing_date()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "signed_date", "signed_date_precision"}
        if self.is_published and self.published_at is None:
            self.published_at = timezone.now()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "published_at"}
        super().save(*args, **kwargs)
        Agreement.objects.filter(pk=self.pk).refresh_search()

    def get_absolute_url(self) -> str:
        return reverse("agreements:agreement_detail", kwargs={"slug": self.slug})

    def effective_signing_date(self) -> tuple[datetime.date | None, str]:
        """``signed_on`` where stated, else the signing event's date, with its
        precision: the rule the database's triggers apply (migration 0017)."""
        if self.signed_on is None and self.signing_event_id:
            return self.signing_event.date, self.signing_event.date_precision
        return self.signed_on, self.signed_on_precision

    @property
    def signed_on_display(self) -> str:
        """The effective signing date in the active language, with only what is known."""
        return DatePrecision(self.signed_date_precision).format(self.signed_date)

    @property
    def term_display(self) -> str:
        """The validity as the record knows it: an end date, "indefinitely"
        (stated), or "end not stated" (unknown, never shown as indefinite)."""
        if self.valid_until:
            return _("until %(date)s") % {"date": formats.date_format(self.valid_until, "DATE_FORMAT")}
        return _("indefinitely") if self.indefinite else _("end not stated")

    @property
    def signed_on_iso(self) -> str:
        """The effective signing date in ISO 8601 with only what is known (2026-03 for "March 2026")."""
        return DatePrecision(self.signed_date_precision).iso(self.signed_date)

    @property
    def is_published(self) -> bool:
        """What the public may see (``PUBLISHED`` for one record)."""
        return self.is_public and self.status in AgreementStatus.concluded()

    @property
    def is_expired(self) -> bool:
        """Derived status: a signed agreement whose validity has run out."""
        return (
            self.status == AgreementStatus.SIGNED
            and self.valid_until is not None
            and self.valid_until < timezone.localdate()
        )

    @property
    def display_status(self) -> str:
        return "expired" if self.is_expired else self.status

    def clean(self):
        super().clean()
        if self.signed_on and self.signed_on_precision in DatePrecision.values:
            self.signed_on = DatePrecision(self.signed_on_precision).truncate(self.signed_on)
        if self.status in AgreementStatus.concluded() and not (self.signed_on or self.signing_event_id):
            raise ValidationError({"signed_on": _("A signed agreement needs a signing date or a signing event.")})
        if self.terminated_on and self.signed_on and self.terminated_on < self.signed_on:
            raise ValidationError({"terminated_on": _("An agreement cannot end before it was signed.")})
        if self.predecessor_id and self.pk and self.predecessor_id == self.pk:
            raise ValidationError({"predecessor": _("An agreement cannot follow itself.")})

    def chain(self) -> list["Agreement"]:
        """The agreements before this one (oldest first), itself, and those after it."""
        before, current = [], self.predecessor
        while current is not None and current not in before:
            before.insert(0, current)
            current = current.predecessor
        after, frontier = [], list(self.successors.order_by("id"))
        while frontier:
            successor = frontier.pop(0)
            if successor not in after and successor != self:
                after.append(successor)
                frontier.extend(successor.successors.order_by("id"))
        return [*before, self, *after]


class AgreementParty(models.Model):
    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="parties"
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="agreement_parties"
    )
    role = models.CharField(_("role"), max_length=20, choices=PartyRole.choices, default=PartyRole.PARTY)
    position = models.PositiveSmallIntegerField(_("order"), default=0)  # the place in the list, not a job title
    history = HistoricalRecords()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["agreement_id", "position", "id"]
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "organisation"],
                name="agreementparty_unique_organisation",
                violation_error_message=_("This organisation is already a party to the agreement."),
            ),
            models.CheckConstraint(
                condition=Q(role__in=PartyRole.values),
                name="agreementparty_role_valid",
                violation_error_message=_("Unknown role."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} ({self.get_role_display()})"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        Agreement.objects.filter(pk=self.agreement_id).refresh_derived()

    def get_absolute_url(self) -> str:
        return self.agreement.get_absolute_url()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        Agreement.objects.filter(pk=self.agreement_id).refresh_derived()
        return result


class Signatory(models.Model):
    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="signatories"
    )
    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="signatures")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("on behalf of"), on_delete=models.PROTECT, related_name="signatures"
    )
    history = HistoricalRecords()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["agreement_id", "id"]
        verbose_name = _("signatory")
        verbose_name_plural = _("signatories")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "person"],
                name="signatory_unique_person",
                violation_error_message=_("This person already signed the agreement."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.organisation.display_name})"

    def get_absolute_url(self) -> str:
        return self.agreement.get_absolute_url()


class ExpiryReminder(models.Model):
    """A reminder sent to the members of one party about an agreement's end.
    One per agreement, organisation and end date: running the command again
    sends nothing new; a changed end date opens a new window."""

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="expiry_reminders"
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="expiry_reminders"
    )
    valid_until = models.DateField(_("valid until"))
    recipients = models.TextField(_("recipients"))
    sent_at = models.DateTimeField(_("sent"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("expiry reminder")
        verbose_name_plural = _("expiry reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "organisation", "valid_until"], name="expiryreminder_once_per_window"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agreement} → {self.organisation} ({self.valid_until})"

    def get_absolute_url(self) -> str:
        return self.agreement.get_absolute_url()
