"""The registry's domain: organisations, people, topics, agreements, signing
events and delegation trips.

Reader-facing text is held in every language of ``settings.LANGUAGES``
(``title_de``, ``title_en``, ``title_pl`` …, created by django-translated-fields);
reading ``obj.title`` gives the active language and falls back to the record's
original language, then to any language that has text.
"""

import datetime
import hashlib
import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import F, OuterRef, Q, StringAgg, Subquery, Value
from django.db.models.functions import Coalesce, Concat
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords
from translated_fields import TranslatedField, to_attribute

from .choices import (
    AgreementKind,
    AgreementStatus,
    DatePrecision,
    DocumentKind,
    OrganisationKind,
    PartyRole,
    ProgrammeItemKind,
    SourceKind,
    SuccessionKind,
    TextLanguage,
)
from .validators import DOCUMENT_TYPES, detect_document_type, validate_document_file

if TYPE_CHECKING:
    from .access import Viewer


def fallback_to_original(name, field):
    """Attribute getter: active language, else the record's original, else any."""

    def getter(obj):
        active = (get_language() or field.languages[0]).split("-")[0]
        for language in (active, getattr(obj, "language", None), *field.languages):
            if language in field.languages:
                value = getattr(obj, to_attribute(name, language))
                if value:
                    return value
        return ""

    return getter


def translated(field: models.Field) -> TranslatedField:
    """All languages optional at field level; models check that one is filled."""
    return TranslatedField(
        field, {lang: {"blank": True} for lang in TextLanguage.values}, attrgetter=fallback_to_original
    )


def some_translation(name: str) -> Q:
    """A Q that is true when at least one language of ``name`` has text."""
    condition = Q()
    for language in TextLanguage.values:
        condition |= ~Q(**{to_attribute(name, language): ""})
    return condition


def precision_matches(date_field: str, precision_field: str) -> Q:
    """A month-precise date is the 1st of its month; a year-precise one 1 January."""
    return (
        Q(**{f"{date_field}__isnull": True})
        | Q(**{precision_field: DatePrecision.DAY})
        | Q(**{precision_field: DatePrecision.MONTH, f"{date_field}__day": 1})
        | Q(**{precision_field: DatePrecision.YEAR, f"{date_field}__day": 1, f"{date_field}__month": 1})
    )


def language_field() -> models.CharField:
    return models.CharField(
        _("original language"),
        max_length=2,
        choices=TextLanguage.choices,
        default=TextLanguage.DE,
        help_text=_("Language the texts were first written in; missing translations fall back to it."),
    )


def outside_trip(trip) -> str:
    return _("The date must lie within the trip (%(start)s to %(end)s).") % {
        "start": trip.start_date,
        "end": trip.end_date,
    }


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    class Meta:
        abstract = True


class RestrictedQuerySet(models.QuerySet):
    """Every registry model's rows, narrowed by the one access seam
    (``agreements.access``, which holds the rules and imports this module)."""

    def restrict(self, viewer: "Viewer", action: str = "view"):
        """The rows ``viewer`` may ``action`` ("view" or "change")."""
        from .access import restrict  # the rules module imports the models

        return restrict(self, viewer, action)

    def visible_to(self, viewer: "Viewer"):
        return self.restrict(viewer, "view")

    def editable_by(self, viewer: "Viewer"):
        return self.restrict(viewer, "change")


# --------------------------------------------------------------------------
# Data version

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
        value = cls.objects.filter(pk=1).values_list("value", flat=True).first()
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


# --------------------------------------------------------------------------
# Organisations, people, topics


class Organisation(TimeStampedModel):
    name = models.CharField(_("name"), max_length=250)
    short_name = models.CharField(
        _("short name"), max_length=50, blank=True, help_text=_("Acronym, e.g. AMZ, SA&AM, SoDA.")
    )
    slug = models.SlugField(_("slug"), max_length=80)
    kind = models.CharField(_("kind"), max_length=20, choices=OrganisationKind.choices)
    country = CountryField(_("country"))
    region = models.CharField(_("region"), max_length=120, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    website = models.URLField(_("website"), blank=True)
    description = translated(models.TextField(_("description")))
    language = language_field()
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text=_("The body that runs this network, if any."),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("members"),
        blank=True,
        related_name="member_organisations",
        help_text=_("Staff who edit the agreements this organisation is a party to (organisation editors)."),
    )
    # Who may edit is itself recorded: membership changes are in the history.
    history = HistoricalRecords(m2m_fields=[members])

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.UniqueConstraint(
                fields=["slug"],
                name="organisation_unique_slug",
                violation_error_code="unique",
                violation_error_message=_("An organisation with this slug already exists."),
            ),
            models.CheckConstraint(
                condition=~Q(slug=""),
                name="organisation_slug_not_empty",
                violation_error_message=_("The slug must not be empty."),
            ),
            models.CheckConstraint(
                condition=~Q(name=""),
                name="organisation_name_not_empty",
                violation_error_message=_("The name must not be empty."),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=OrganisationKind.values),
                name="organisation_kind_valid",
                violation_error_message=_("Unknown kind of organisation."),
            ),
            models.CheckConstraint(
                condition=~Q(parent=F("pk")),
                name="organisation_not_own_parent",
                violation_error_message=_("An organisation cannot be its own parent."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.short_name})" if self.short_name else self.name

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        Agreement.objects.filter(parties__organisation=self).refresh_derived()

    def get_absolute_url(self) -> str:
        return reverse("agreements:organisation_detail", kwargs={"slug": self.slug})

    @property
    def display_name(self) -> str:
        return self.short_name or self.name


# An organisation's profile as staff write it (API writes, CSV/XLSX import).
ORGANISATION_PROFILE_FIELDS = [
    "slug",
    "name",
    "short_name",
    "kind",
    "country",
    "region",
    "city",
    "website",
    *Organisation.description.fields,
    "language",
    "parent",
]


class Person(TimeStampedModel):
    """A person named in the registry. Personal data: public only when marked so."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80)
    honorific = models.CharField(_("honorific"), max_length=50, blank=True, help_text=_("E.g. Dr., Prof."))
    position = translated(
        models.CharField(_("position"), max_length=250, help_text=_("E.g. State Minister for Regional Development."))
    )
    language = language_field()
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="people",
    )
    is_public = models.BooleanField(
        _("public"),
        default=False,
        help_text=_(
            "Only public people (e.g. holders of public office) appear on public pages and in anonymous API answers."
        ),
    )
    history = HistoricalRecords()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("person")
        verbose_name_plural = _("people")
        constraints = [
            models.UniqueConstraint(
                fields=["slug"],
                name="person_unique_slug",
                violation_error_code="unique",
                violation_error_message=_("A person with this slug already exists."),
            ),
            models.CheckConstraint(
                condition=~Q(slug=""),
                name="person_slug_not_empty",
                violation_error_message=_("The slug must not be empty."),
            ),
            models.CheckConstraint(
                condition=~Q(name=""),
                name="person_name_not_empty",
                violation_error_message=_("The name must not be empty."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.honorific} {self.name}".strip()

    def get_absolute_url(self) -> str:
        return reverse("admin:agreements_person_change", args=[self.pk])


class Topic(TimeStampedModel):
    name = translated(models.CharField(_("name"), max_length=150))
    slug = models.SlugField(_("slug"), max_length=80)
    description = translated(models.TextField(_("description")))
    language = language_field()
    history = HistoricalRecords()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["slug"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        constraints = [
            models.UniqueConstraint(
                fields=["slug"],
                name="topic_unique_slug",
                violation_error_code="unique",
                violation_error_message=_("A topic with this slug already exists."),
            ),
            models.CheckConstraint(
                condition=~Q(slug=""),
                name="topic_slug_not_empty",
                violation_error_message=_("The slug must not be empty."),
            ),
            models.CheckConstraint(
                condition=some_translation("name"),
                name="topic_has_name",
                violation_error_message=_("Give the name in at least one language."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("agreements:topic_detail", kwargs={"slug": self.slug})


# --------------------------------------------------------------------------
# Delegation trips and their programme


class DelegationTrip(TimeStampedModel):
    title = translated(models.CharField(_("title"), max_length=250))
    slug = models.SlugField(_("slug"), max_length=80)
    purpose = translated(models.TextField(_("purpose")))
    language = language_field()
    leader = models.ForeignKey(
        Person, verbose_name=_("leader"), null=True, blank=True, on_delete=models.PROTECT, related_name="trips_led"
    )
    organiser = models.ForeignKey(
        Organisation,
        verbose_name=_("organiser"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trips_organised",
    )
    destination_country = CountryField(_("destination country"))
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    delegation_size = models.PositiveIntegerField(
        _("delegation size"),
        null=True,
        blank=True,
        help_text=_("Approximate number of delegation members, where reported."),
    )
    participant_organisations = models.ManyToManyField(
        Organisation,
        verbose_name=_("participating organisations"),
        blank=True,
        related_name="trips_joined",
    )
    participant_people = models.ManyToManyField(
        Person,
        verbose_name=_("participating people"),
        blank=True,
        related_name="trips_joined",
    )
    history = HistoricalRecords(m2m_fields=[participant_organisations, participant_people])

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "slug"]
        verbose_name = _("delegation trip")
        verbose_name_plural = _("delegation trips")
        constraints = [
            models.UniqueConstraint(
                fields=["slug"],
                name="trip_unique_slug",
                violation_error_code="unique",
                violation_error_message=_("A trip with this slug already exists."),
            ),
            models.CheckConstraint(
                condition=~Q(slug=""),
                name="trip_slug_not_empty",
                violation_error_message=_("The slug must not be empty."),
            ),
            models.CheckConstraint(
                condition=some_translation("title"),
                name="trip_has_title",
                violation_error_message=_("Give the title in at least one language."),
            ),
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")),
                name="trip_ends_after_start",
                violation_error_message=_("The trip cannot end before it starts."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("agreements:trip_detail", kwargs={"slug": self.slug})

    def contains(self, day: datetime.date | None) -> bool:
        return day is None or self.start_date <= day <= self.end_date


class TripStop(models.Model):
    trip = models.ForeignKey(DelegationTrip, verbose_name=_("trip"), on_delete=models.CASCADE, related_name="stops")
    city = models.CharField(_("city"), max_length=120)
    arrival_date = models.DateField(_("arrival"), null=True, blank=True)
    departure_date = models.DateField(_("departure"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    history = HistoricalRecords()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["trip_id", "position", "arrival_date", "id"]
        verbose_name = _("trip stop")
        verbose_name_plural = _("trip stops")
        constraints = [
            models.UniqueConstraint(
                fields=["trip", "city"],
                name="tripstop_unique_city",
                violation_error_message=_("This city is already a stop of the trip."),
            ),
            models.CheckConstraint(
                condition=Q(departure_date__isnull=True)
                | Q(arrival_date__isnull=True)
                | Q(departure_date__gte=F("arrival_date")),
                name="tripstop_departs_after_arrival",
                violation_error_message=_("The departure cannot be before the arrival."),
            ),
        ]

    def __str__(self) -> str:
        return self.city

    def get_absolute_url(self) -> str:
        return self.trip.get_absolute_url()

    def clean(self):
        super().clean()
        trip = getattr(self, "trip", None)
        if trip is None or trip.start_date is None or trip.end_date is None:
            return
        errors = {}
        for field in ("arrival_date", "departure_date"):
            if not trip.contains(getattr(self, field)):
                errors[field] = outside_trip(trip)
        if errors:
            raise ValidationError(errors)


class SigningEvent(TimeStampedModel):
    title = translated(models.CharField(_("title"), max_length=250))
    slug = models.SlugField(_("slug"), max_length=80)
    description = translated(models.TextField(_("description")))
    language = language_field()
    date = models.DateField(_("date"))
    date_precision = models.CharField(
        _("date precision"), max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    venue = models.CharField(_("venue"), max_length=250, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    country = CountryField(_("country"))
    trip = models.ForeignKey(
        DelegationTrip,
        verbose_name=_("delegation trip"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="signing_events",
    )
    people_present = models.ManyToManyField(
        Person, verbose_name=_("people present"), blank=True, related_name="signing_events_attended"
    )
    history = HistoricalRecords(m2m_fields=[people_present])

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "slug"]
        verbose_name = _("signing event")
        verbose_name_plural = _("signing events")
        constraints = [
            models.UniqueConstraint(
                fields=["slug"],
                name="signingevent_unique_slug",
                violation_error_code="unique",
                violation_error_message=_("A signing event with this slug already exists."),
            ),
            models.CheckConstraint(
                condition=~Q(slug=""),
                name="signingevent_slug_not_empty",
                violation_error_message=_("The slug must not be empty."),
            ),
            models.CheckConstraint(
                condition=some_translation("title"),
                name="signingevent_has_title",
                violation_error_message=_("Give the title in at least one language."),
            ),
            models.CheckConstraint(
                condition=Q(date_precision__in=DatePrecision.values) & precision_matches("date", "date_precision"),
                name="signingevent_date_precision",
                violation_error_message=_(
                    "A date known only to the month must be the 1st of the month; "
                    "one known only to the year must be 1 January."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("agreements:signingevent_detail", kwargs={"slug": self.slug})

    @property
    def date_display(self) -> str:
        return DatePrecision(self.date_precision).format(self.date)

    def clean(self):
        super().clean()
        if self.date and self.date_precision in DatePrecision.values:
            self.date = DatePrecision(self.date_precision).truncate(self.date)
        if (
            self.trip_id
            and self.date
            and self.date_precision == DatePrecision.DAY
            and not self.trip.contains(self.date)
        ):
            raise ValidationError({"date": outside_trip(self.trip)})


class ProgrammeItem(models.Model):
    trip = models.ForeignKey(
        DelegationTrip, verbose_name=_("trip"), on_delete=models.CASCADE, related_name="programme_items"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ProgrammeItemKind.choices)
    title = translated(models.CharField(_("title"), max_length=250))
    description = translated(models.TextField(_("description")))
    language = language_field()
    date = models.DateField(_("date"))
    start_time = models.TimeField(_("start time"), null=True, blank=True)
    end_time = models.TimeField(_("end time"), null=True, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    venue = models.CharField(_("venue"), max_length=250, blank=True)
    participant_count = models.PositiveIntegerField(_("number of participants"), null=True, blank=True)
    part_of = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sub_items",
        help_text=_("The larger programme item this one was held within."),
    )
    signing_event = models.ForeignKey(
        SigningEvent,
        verbose_name=_("signing event"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="programme_items",
    )
    history = HistoricalRecords()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["trip_id", "date", "start_time", "id"]
        verbose_name = _("programme item")
        verbose_name_plural = _("programme items")
        constraints = [
            models.CheckConstraint(
                condition=some_translation("title"),
                name="programmeitem_has_title",
                violation_error_message=_("Give the title in at least one language."),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ProgrammeItemKind.values),
                name="programmeitem_kind_valid",
                violation_error_message=_("Unknown kind of programme item."),
            ),
            models.CheckConstraint(
                condition=Q(end_time__isnull=True) | Q(start_time__isnull=True) | Q(end_time__gte=F("start_time")),
                name="programmeitem_ends_after_start",
                violation_error_message=_("The item cannot end before it starts."),
            ),
            models.CheckConstraint(
                condition=~Q(part_of=F("pk")),
                name="programmeitem_not_own_part",
                violation_error_message=_("An item cannot be part of itself."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return self.trip.get_absolute_url()

    def clean(self):
        super().clean()
        trip = getattr(self, "trip", None)
        if trip is not None and trip.start_date and trip.end_date and self.date and not trip.contains(self.date):
            raise ValidationError({"date": outside_trip(trip)})
        if self.part_of_id and trip is not None and self.part_of.trip_id != trip.pk:
            raise ValidationError({"part_of": _("Choose an item of the same trip.")})


# --------------------------------------------------------------------------
# Agreements


# PostgreSQL has German and English stemmers; Polish text is indexed as words.
TEXT_SEARCH_CONFIGS = {"de": "german", "en": "english", "pl": "simple"}


def search_document() -> SearchVector:
    """The weighted search document of an agreement, as an SQL expression:
    titles and party names weigh most, then summaries, then objectives."""
    party_names = (
        AgreementParty.objects.filter(agreement=OuterRef("pk"))
        .values("agreement")
        .annotate(
            names=StringAgg(
                Concat("organisation__name", Value(" "), "organisation__short_name", output_field=models.TextField()),
                Value(" "),
            )
        )
        .values("names")
    )
    names = Coalesce(Subquery(party_names), Value(""), output_field=models.TextField())
    vector = SearchVector(names, config="simple", weight="A")
    for name, weight in (("title", "A"), ("summary", "B"), ("objectives", "C")):
        for language, config in TEXT_SEARCH_CONFIGS.items():
            vector += SearchVector(f"{name}_{language}", config=config, weight=weight)
    return vector


# Agreements the public may see: public ones that were signed.
PUBLISHED = Q(is_public=True, status__in=AgreementStatus.concluded())


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
            self.defer("search_vector")
            .select_related("signing_event")
            .prefetch_related(
                "topics", models.Prefetch("parties", queryset=AgreementParty.objects.select_related("organisation"))
            )
        )

    def with_related(self, viewer: "Viewer"):
        """The select/prefetch set that lists and detail pages need; nested
        people and documents are narrowed to what ``viewer`` may see."""
        return (
            self.defer("search_vector")
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
        """Recompute what is derived from related rows: the search document
        (title, summary, objectives in every language plus party names) and
        ``updated_at`` (the parties are part of the agreement's record, which
        ``If-Match`` compares). Answers and pages are kept fresh by the data
        version, whatever the write."""
        values = {"updated_at": timezone.now()}
        if connection.vendor == "postgresql":
            values["search_vector"] = search_document()
        return self.update(**values)


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
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(
        _("valid until"), null=True, blank=True, help_text=_("Leave empty for an agreement of indefinite duration.")
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
    # Full-text search document, PostgreSQL only (GIN-indexed by migration 0002).
    search_vector = SearchVectorField(null=True, editable=False)
    history = HistoricalRecords(m2m_fields=[topics], excluded_fields=["search_vector"])

    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["-signed_on", "-id"]
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        # What the public sees is a small part of a large table: partial indexes
        # serve its default order, its ETag/count aggregate and the feed's order.
        indexes = [
            models.Index(fields=["-signed_on", "-id"], condition=PUBLISHED, name="agreement_published_newest"),
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
        if self.is_published and self.published_at is None:
            self.published_at = timezone.now()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "published_at"}
        super().save(*args, **kwargs)
        if connection.vendor == "postgresql":
            Agreement.objects.filter(pk=self.pk).update(search_vector=search_document())

    def get_absolute_url(self) -> str:
        return reverse("agreements:agreement_detail", kwargs={"slug": self.slug})

    @property
    def signed_on_display(self) -> str:
        if self.signed_on is None and self.signing_event_id:
            return self.signing_event.date_display
        return DatePrecision(self.signed_on_precision).format(self.signed_on)

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
    position = models.PositiveSmallIntegerField(_("position"), default=0)
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


def document_upload_to(instance: "AgreementDocument", filename: str) -> str:
    """A generated name: nothing of the uploader's file name reaches storage,
    and the name can't be guessed from the agreement or the title."""
    extension = DOCUMENT_TYPES.get(instance.content_type, "")
    return f"agreement-documents/{timezone.now():%Y}/{secrets.token_hex(16)}{extension}"


class AgreementDocument(TimeStampedModel):
    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="documents"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=DocumentKind.choices)
    title = models.CharField(_("title"), max_length=250)
    file = models.FileField(
        _("file"),
        upload_to=document_upload_to,
        max_length=200,
        validators=[validate_document_file],
        help_text=_("PDF, PNG or JPEG."),
    )
    content_type = models.CharField(_("content type"), max_length=40, editable=False)
    size = models.PositiveBigIntegerField(_("size in bytes"), editable=False, default=0)
    language = models.CharField(_("language"), max_length=2, choices=TextLanguage.choices, blank=True)
    is_public = models.BooleanField(_("public"), default=False)
    history = HistoricalRecords()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["agreement_id", "kind", "id"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=DocumentKind.values),
                name="agreementdocument_kind_valid",
                violation_error_message=_("Unknown kind of document."),
            ),
            models.CheckConstraint(
                condition=Q(content_type__in=list(DOCUMENT_TYPES)),
                name="agreementdocument_content_type_valid",
                violation_error_message=_("Documents are PDF, PNG or JPEG files."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        if self.file and not self.file._committed:
            # A new upload: what it is comes from its content (validated in
            # full_clean; a caller skipping that still can't store another kind,
            # the check constraint refuses it).
            self.content_type = detect_document_type(self.file) or ""
            self.size = self.file.size
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "content_type", "size"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("agreements:document_download", kwargs={"pk": self.pk})

    @property
    def file_format(self) -> str:
        """The format for readers: PDF, PNG or JPG."""
        return DOCUMENT_TYPES.get(self.content_type, "").lstrip(".").upper()

    @property
    def download_name(self) -> str:
        """The file name a download is offered under: from the title, never the stored name."""
        return (slugify(self.title) or "document") + DOCUMENT_TYPES.get(self.content_type, "")


class AgreementSource(models.Model):
    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="sources"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=SourceKind.choices, default=SourceKind.PRESS_RELEASE)
    title = models.CharField(_("title"), max_length=300)
    url = models.URLField(_("address"), max_length=500)
    publisher = models.CharField(_("publisher"), max_length=200, blank=True)
    published_on = models.DateField(_("published on"), null=True, blank=True)
    history = HistoricalRecords()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["agreement_id", "published_on", "id"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "url"],
                name="agreementsource_unique_url",
                violation_error_message=_("This source is already listed for the agreement."),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=SourceKind.values),
                name="agreementsource_kind_valid",
                violation_error_message=_("Unknown kind of source."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return self.agreement.get_absolute_url()


# --------------------------------------------------------------------------
# API tokens


def hash_token_key(key: str) -> str:
    # Keys are 256-bit random strings, so a fast hash is enough (no brute force).
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """A key for the REST API. Only its SHA-256 hash is stored; the key itself
    is shown once, when the token is created (``services.token_create``)."""

    name = models.CharField(_("name"), max_length=100, help_text=_("What the token is for, e.g. the partner system."))
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="api_tokens",
        help_text=_("Partner token: sees what this organisation is a party to."),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        help_text=_("Staff token: acts as this user, with their permissions."),
    )
    prefix = models.CharField(_("prefix"), max_length=12, editable=False, db_index=True)
    key_hash = models.CharField(_("key hash"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    history = HistoricalRecords(excluded_fields=["last_used_at"])

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints = [
            models.UniqueConstraint(fields=["key_hash"], name="apitoken_unique_key_hash"),
            models.CheckConstraint(
                condition=Q(organisation__isnull=False, user__isnull=True)
                | Q(organisation__isnull=True, user__isnull=False),
                name="apitoken_one_owner",
                violation_error_message=_("A token belongs either to an organisation or to a user."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def get_absolute_url(self) -> str:
        return reverse("admin:agreements_apitoken_change", args=[self.pk])

    def clean(self):
        super().clean()
        if self._state.adding and self.expires_at is not None and self.expires_at <= timezone.now():
            raise ValidationError({"expires_at": _("The expiry must lie in the future.")})
        if self.user_id and not (self.user.is_active and self.user.is_staff):
            raise ValidationError({"user": _("Only active staff users can have a staff token.")})

    @property
    def is_published(self) -> bool:
        """What the public may see (``PUBLISHED`` for one record)."""
        return self.is_public and self.status in AgreementStatus.concluded()

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


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
