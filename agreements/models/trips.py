"""Delegation trips, their stops and programme, and signing events."""

import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from ..choices import (
    DatePrecision,
    ProgrammeItemKind,
)
from .base import (
    RestrictedQuerySet,
    TimeStampedModel,
    language_field,
    outside_trip,
    precision_matches,
    some_translation,
    translated,
)
from .organisations import Organisation, Person


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
    position = models.PositiveSmallIntegerField(_("order"), default=0)  # the place in the list, not a job title
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

    def save(self, *args, **kwargs):
        from .agreements import Agreement  # agreements name their signing event: imported when used

        super().save(*args, **kwargs)
        # The event's city and venue are part of its agreements' searchable text.
        Agreement.objects.filter(signing_event=self).refresh_search()

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
