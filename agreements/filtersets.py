"""One FilterSet per model, shared by the REST API and the public pages.

Every parameter is validated: a value that cannot be parsed makes the
FilterSet invalid, and its errors name the parameter (the API answers 400).
"""

import datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from django_filters.fields import BaseCSVField

from . import search
from .choices import AgreementKind, AgreementStatus, OrganisationKind
from .models import (
    NEWEST_FIRST,
    Agreement,
    AgreementParty,
    DelegationTrip,
    Organisation,
    Person,
    SigningEvent,
    Topic,
    TripStop,
    expired_on,
)

MAX_QUERY_LENGTH = 200
EXPIRED = "expired"
IN_FORCE = "in_force"
STATUS_CHOICES = [*AgreementStatus.choices, (EXPIRED, _("Expired")), (IN_FORCE, _("In force"))]


def status_condition(value: str, today: datetime.date) -> Q:
    """A stored status, or a derived one: "expired" (signed, validity ran out
    before ``today``) and "in force" (signed and not expired)."""
    if value == EXPIRED:
        return expired_on(today)
    if value == IN_FORCE:
        return Q(status=AgreementStatus.SIGNED) & (Q(valid_until__isnull=True) | Q(valid_until__gte=today))
    return Q(status=value)


def without_empty(data):
    """The registry's one rule for empty parameters, on the API and the pages:
    ``?country=`` is the same as no ``country`` (a form's empty field, a URL
    template's unfilled slot). Something in it (``ordering=,``) is checked."""
    if not any(_values(data, key) == [""] for key in data):
        return data
    data = data.copy()
    for key in [key for key in data if _values(data, key) == [""]]:
        data.pop(key)
    return data


class FilterForm(forms.Form):
    """The form behind every FilterSet: an empty parameter is not given
    (``without_empty``), and a NUL character is refused before any field
    looks it up in the database (PostgreSQL cannot even compare it)."""

    def full_clean(self):
        self.data = without_empty(self.data)
        refused = [key for key in self.data if any("\x00" in str(v) for v in _values(self.data, key))]
        if refused:
            data = self.data.copy()
            for key in refused:
                data.pop(key)
            self.data = data
        super().full_clean()
        for key in refused:
            if key in self.fields:
                self.add_error(key, _("Null characters are not allowed."))


def _values(data, key) -> list:
    if hasattr(data, "getlist"):
        return data.getlist(key)
    value = data[key]
    return value if isinstance(value, list | tuple) else [value]


class UtcDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 date-time, taken to UTC; offsets and years the database
    cannot represent are a validation error, not a server error."""

    def to_python(self, value):
        result = super().to_python(value)
        if result is None:
            return None
        try:
            if result.tzinfo is not None:
                offset = result.utcoffset()
                if abs(offset) >= datetime.timedelta(hours=16):
                    raise ValidationError(_("The time-zone offset is out of range."), code="invalid")
                result = result.astimezone(datetime.UTC)
        except OverflowError:
            raise ValidationError(_("The date is out of range."), code="invalid") from None
        return result


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


def country_choices():
    return list(countries)


def active_language() -> str:
    return (get_language() or "de").split("-")[0]


class YearFilter(django_filters.NumberFilter):
    """A whole year: 2021.5 is a 400 naming the parameter, not 2021."""

    field_class = forms.IntegerField


class OrderingCSVField(BaseCSVField):
    """A comma-separated list of orderings in which every item names one:
    ``title,`` or ``,`` is a 400 naming ``ordering``, never an empty sort key."""

    def clean(self, value):
        if value and any(item in self.empty_values for item in value):
            raise ValidationError(_("An ordering is missing between the commas."), code="empty_item")
        return super().clean(value)


class TranslatedOrderingFilter(django_filters.OrderingFilter):
    """Ordering on a whitelist; ``title``/``name`` sort by the active language."""

    base_field_class = OrderingCSVField

    def __init__(self, *args, translated=(), tiebreaker="id", **kwargs):
        self.translated = set(translated)
        self.tiebreaker = tiebreaker
        super().__init__(*args, **kwargs)

    def get_ordering_value(self, param):
        value = super().get_ordering_value(param)
        descending = value.startswith("-")
        name = value.lstrip("-")
        if name in self.translated:
            name = f"{name}_{active_language()}"
        return f"-{name}" if descending else name

    def filter(self, qs, value):
        if value in django_filters.constants.EMPTY_VALUES:
            return qs
        ordering = []
        for param in value:
            name = self.get_ordering_value(param)
            # Empty values last in both directions, the same on SQLite and PostgreSQL.
            if name.startswith("-"):
                ordering.append(F(name[1:]).desc(nulls_last=True))
            else:
                ordering.append(F(name).asc(nulls_last=True))
        return qs.order_by(*ordering, self.tiebreaker)


def text_filter(**kwargs) -> django_filters.CharFilter:
    """The ``q`` parameter: bounded length (NUL bytes are refused by the form field)."""
    return django_filters.CharFilter(method="filter_q", max_length=MAX_QUERY_LENGTH, label=_("Search"), **kwargs)


def translated_fields(*names: str) -> list[str]:
    return [f"{name}_{language}" for name in names for language in ("de", "en", "pl")]


class AgreementFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=STATUS_CHOICES,
        method="filter_status",
        label=_("Status (repeatable; 'expired' and 'in_force', signed and not expired, are derived)"),
    )
    # distinct=False: a column of the row itself needs no DISTINCT (which costs a sort of every match).
    kind = django_filters.MultipleChoiceFilter(
        choices=AgreementKind.choices, label=_("Kind (repeatable)"), distinct=False
    )
    party = django_filters.ModelMultipleChoiceFilter(
        queryset=Organisation.objects.all(),
        to_field_name="slug",
        method="filter_party",
        label=_("Party: organisation slug (repeatable; all must be parties)"),
    )
    country = django_filters.MultipleChoiceFilter(
        choices=country_choices, method="filter_country", label=_("Country of a party (ISO 3166-1 alpha-2)")
    )
    topic = django_filters.ModelMultipleChoiceFilter(
        queryset=Topic.objects.all(),
        to_field_name="slug",
        method="filter_topic",
        label=_("Topic slug (repeatable; any of them)"),
    )
    trip = django_filters.ModelChoiceFilter(
        queryset=DelegationTrip.objects.all(),
        to_field_name="slug",
        field_name="signing_event__trip",
        label=_("Delegation trip slug"),
    )
    year = YearFilter(
        field_name="signed_date__year",
        min_value=1900,
        max_value=2200,
        label=_("Year of signing"),
    )
    signed_after = django_filters.DateFilter(
        field_name="signed_date", lookup_expr="gte", label=_("Signed on or after (YYYY-MM-DD)")
    )
    signed_before = django_filters.DateFilter(
        field_name="signed_date", lookup_expr="lte", label=_("Signed on or before (YYYY-MM-DD)")
    )
    updated_after = UtcDateTimeFilter(
        field_name="updated_at", lookup_expr="gt", label=_("Changed after (ISO 8601 date-time)")
    )
    q = text_filter()
    ordering = TranslatedOrderingFilter(
        fields=[("signed_date", "signed_on"), ("title", "title"), ("updated_at", "updated_at")],
        translated=["title"],
        label=_("Order by"),
    )

    class Meta:
        model = Agreement
        fields = []
        form = FilterForm

    def filter_status(self, queryset, name, value: str):
        values = value
        condition = Q()
        for value in values:
            condition |= status_condition(value, timezone.localdate())
        return queryset.filter(condition)

    def filter_party(self, queryset, name, value: str):
        organisations = value
        for organisation in organisations:
            queryset = queryset.filter(
                Exists(AgreementParty.objects.filter(agreement=OuterRef("pk"), organisation=organisation))
            )
        return queryset

    def filter_country(self, queryset, name, value: str):
        codes = value
        return queryset.filter(
            Exists(AgreementParty.objects.filter(agreement=OuterRef("pk"), organisation__country__in=codes))
        )

    def filter_topic(self, queryset, name, value: str):
        topics = value
        if not topics:
            return queryset
        through = Agreement.topics.through
        return queryset.filter(Exists(through.objects.filter(agreement=OuterRef("pk"), topic__in=topics)))

    def filter_q(self, queryset, name, value: str):
        """Every word of the query in the agreement's searchable text
        (``search_document()``: titles, parties, the signing place, summaries,
        objectives; accents and case ignored, parts of words match). Unless
        another order is asked for: an exact title first, then titles that hold
        every word, then the rest, each newest first."""
        words = search.terms(value)
        if not words:
            return queryset
        queryset = queryset.filter(search.matching(["search_text"], value))
        if self.data.get("ordering"):
            return queryset
        in_title = Q()
        for word in words:
            in_title &= Q(search_title__contains=word)
        rank = Case(
            When(search_title__contains=f"\n{search.phrase(value)}\n", then=Value(2)),
            When(in_title, then=Value(1)),
            default=Value(0),
        )
        return queryset.alias(rank=rank).order_by(F("rank").desc(), *NEWEST_FIRST)


class OrganisationFilterSet(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=OrganisationKind.choices, distinct=False)
    country = django_filters.MultipleChoiceFilter(choices=country_choices, distinct=False)
    parent = django_filters.ModelChoiceFilter(queryset=Organisation.objects.all(), to_field_name="slug")
    updated_after = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gt")
    q = text_filter()
    ordering = TranslatedOrderingFilter(fields=[("name", "name"), ("country", "country"), ("updated_at", "updated_at")])

    class Meta:
        model = Organisation
        fields = []
        form = FilterForm

    def filter_q(self, queryset, name, value: str):
        return queryset.filter(search.matching(["name", "short_name", "city", "region"], value))


class PersonFilterSet(django_filters.FilterSet):
    organisation = django_filters.ModelChoiceFilter(queryset=Organisation.objects.all(), to_field_name="slug")
    updated_after = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gt")
    q = text_filter()
    ordering = TranslatedOrderingFilter(fields=[("name", "name"), ("updated_at", "updated_at")])

    class Meta:
        model = Person
        fields = []
        form = FilterForm

    def filter_q(self, queryset, name, value: str):
        return queryset.filter(search.matching(["name", *translated_fields("position")], value))


class TopicFilterSet(django_filters.FilterSet):
    q = text_filter()
    ordering = TranslatedOrderingFilter(fields=[("slug", "slug"), ("name", "name")], translated=["name"])

    class Meta:
        model = Topic
        fields = []
        form = FilterForm

    def filter_q(self, queryset, name, value: str):
        return queryset.filter(search.matching(["slug", *translated_fields("name")], value))


class SigningEventFilterSet(django_filters.FilterSet):
    trip = django_filters.ModelChoiceFilter(queryset=DelegationTrip.objects.all(), to_field_name="slug")
    country = django_filters.MultipleChoiceFilter(choices=country_choices, distinct=False)
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte")
    updated_after = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gt")
    q = text_filter()
    ordering = TranslatedOrderingFilter(fields=[("date", "date"), ("title", "title")], translated=["title"])

    class Meta:
        model = SigningEvent
        fields = []
        form = FilterForm

    def filter_q(self, queryset, name, value: str):
        return queryset.filter(search.matching(["city", "venue", *translated_fields("title")], value))


class DelegationTripFilterSet(django_filters.FilterSet):
    destination_country = django_filters.MultipleChoiceFilter(choices=country_choices, distinct=False)
    organiser = django_filters.ModelChoiceFilter(queryset=Organisation.objects.all(), to_field_name="slug")
    started_after = django_filters.DateFilter(field_name="start_date", lookup_expr="gte")
    started_before = django_filters.DateFilter(field_name="start_date", lookup_expr="lte")
    updated_after = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gt")
    q = text_filter()
    ordering = TranslatedOrderingFilter(fields=[("start_date", "start_date"), ("title", "title")], translated=["title"])

    class Meta:
        model = DelegationTrip
        fields = []
        form = FilterForm

    def filter_q(self, queryset, name, value: str):
        condition = Q()
        for word in search.terms(value):
            stops = TripStop.objects.filter(trip=OuterRef("pk"), city__folded=word)
            condition &= search.in_any(translated_fields("title", "purpose"), word) | Exists(stops)
        return queryset.filter(condition)
