"""Organisations, people and topics."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from ..choices import (
    OrganisationKind,
)
from .base import RestrictedQuerySet, TimeStampedModel, language_field, some_translation, translated


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
    # Where the map pages draw it (WGS 84 degrees); both or neither.
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
        help_text=_("Degrees north (WGS 84), e.g. 51.05 for Dresden."),
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
        help_text=_("Degrees east (WGS 84), e.g. 13.74 for Dresden."),
    )
    coordinates_source = models.CharField(
        _("source of the coordinates"),
        max_length=250,
        blank=True,
        help_text=_("Where the coordinates come from, e.g. “city centre of Dresden”."),
    )
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
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(
                    latitude__isnull=False,
                    longitude__isnull=False,
                    latitude__gte=-90,
                    latitude__lte=90,
                    longitude__gte=-180,
                    longitude__lte=180,
                ),
                name="organisation_coordinates_complete",
                violation_error_message=_("Give both latitude and longitude (in degrees), or neither."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.short_name})" if self.short_name else self.name

    def save(self, *args, **kwargs):
        from .agreements import Agreement  # agreements name organisations: imported when used

        super().save(*args, **kwargs)
        # The parties' names are part of each agreement's search document.
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
