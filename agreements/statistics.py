"""Statistics of signed agreements: counted in the database (one aggregate
query per table, whatever the number of agreements), for any set of
agreements the caller may see — the public page passes the list's filtered
published agreements, the API the caller's visible ones.

Every table is about the agreements given: organisations, delegation trips
and signing events count when one of those agreements names them (a party,
the trip or the event it was signed at), so nothing hidden is counted
through a side table."""

from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from .choices import AgreementKind, AgreementStatus, OrganisationKind
from .models import Agreement, AgreementParty, DelegationTrip, Organisation, SigningEvent, Topic


@dataclass(frozen=True)
class Table:
    """One table of the statistics: its address (``slug``), heading, columns,
    and the rows; the chart shows ``label`` against the first count column."""

    slug: str
    title: str
    columns: list[str]
    rows: list[tuple]
    labels: int = 1  # how many leading columns name a row; the others are counts

    @property
    def chart_rows(self) -> list[tuple[str, int]]:
        """(bar label, count): one bar per row, or per row and count column."""
        counts = self.columns[self.labels :]
        result = []
        for row in self.rows:
            label = " – ".join(str(value) for value in row[: self.labels])
            for column, value in zip(counts, row[self.labels :], strict=True):
                result.append((f"{label} – {column}" if len(counts) > 1 else label, value))
        return result


# The tables in page order: slug → heading. The slugs are the CSV addresses.
TABLES = {
    "by-year": _("Agreements by year of signing"),
    "by-kind": _("Agreements by kind"),
    "by-topic": _("Agreements by topic"),
    "by-country": _("Agreements by country of a party"),
    "by-country-pair": _("Cross-border links: agreements by pair of party countries"),
    "organisations": _("Organisations by country and kind"),
    "activity": _("Delegation trips and signing events by year"),
}


def signed(agreements: QuerySet) -> QuerySet:
    """The signed (or since terminated) ones of ``agreements``, unordered.
    A ranked search or a DISTINCT query is wrapped as a plain one, so that
    each agreement counts once and the groups are only the tables' own."""
    chosen = agreements.order_by().filter(status__in=AgreementStatus.concluded())
    if chosen.query.annotations or chosen.query.distinct:
        chosen = Agreement.objects.filter(pk__in=chosen.values("pk")).order_by()
    return chosen


def country_name(code: str) -> str:
    return str(countries.name(code)) or code


def compute(agreements: QuerySet) -> dict:
    """Every table for ``agreements`` (already narrowed to what the caller may
    see): plain values in the active language, ready for the page, the CSV
    files and the API. Eight queries."""
    chosen = signed(agreements)
    parties = AgreementParty.objects.filter(agreement__in=chosen)

    by_year = list(
        chosen.filter(signed_date__isnull=False)
        .annotate(year=ExtractYear("signed_date"))
        .values_list("year")
        .annotate(n=Count("pk"))
        .order_by("year")
    )
    kinds = dict(chosen.values_list("kind").annotate(n=Count("pk")).order_by())
    by_kind = [(value, str(label), kinds[value]) for value, label in AgreementKind.choices if kinds.get(value)]
    topics = (
        Topic.objects.annotate(n=Count("agreements", filter=Q(agreements__in=chosen)))
        .filter(n__gt=0)
        .order_by("-n", "slug")
    )
    by_topic = [(topic.slug, topic.name, topic.n) for topic in topics]
    by_country = sorted(
        (
            (code, country_name(code), n)
            for code, n in parties.values_list("organisation__country")
            .annotate(n=Count("agreement", distinct=True))
            .order_by()
        ),
        key=lambda row: (-row[2], row[1]),
    )
    # Pairs of distinct party countries of one agreement, each pair once per
    # agreement, the two codes in alphabetical order.
    pairs = (
        parties.filter(agreement__parties__organisation__country__gt=F("organisation__country"))
        .values_list("organisation__country", "agreement__parties__organisation__country")
        .annotate(n=Count("agreement", distinct=True))
        .order_by()
    )
    by_pair = sorted(
        ((first, second, country_name(first), country_name(second), n) for first, second, n in pairs),
        key=lambda row: (-row[4], row[0], row[1]),
    )
    organisations = (
        Organisation.objects.filter(Exists(parties.filter(organisation=OuterRef("pk"))))
        .values_list("country", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    kind_labels = dict(OrganisationKind.choices)
    by_organisation = sorted(
        (
            (country, country_name(country), kind, str(kind_labels.get(kind, kind)), n)
            for country, kind, n in organisations
        ),
        key=lambda row: (row[1], row[3]),
    )
    trips = dict(
        DelegationTrip.objects.filter(Exists(chosen.filter(signing_event__trip=OuterRef("pk"))))
        .annotate(year=ExtractYear("start_date"))
        .values_list("year")
        .annotate(n=Count("pk"))
        .order_by()
    )
    events = dict(
        SigningEvent.objects.filter(Exists(chosen.filter(signing_event=OuterRef("pk"))))
        .annotate(year=ExtractYear("date"))
        .values_list("year")
        .annotate(n=Count("pk"))
        .order_by()
    )
    activity = [(year, trips.get(year, 0), events.get(year, 0)) for year in sorted({*trips, *events})]
    return {
        "total": sum(kinds.values()),
        "by_year": by_year,
        "by_kind": by_kind,
        "by_topic": by_topic,
        "by_country": by_country,
        "by_country_pair": by_pair,
        "organisations": by_organisation,
        "activity": activity,
    }


def tables(data: dict) -> list[Table]:
    """The page's and the CSV files' tables (labels in the active language)."""
    return [
        Table("by-year", str(TABLES["by-year"]), [str(_("Year")), str(_("Agreements"))], data["by_year"]),
        Table(
            "by-kind",
            str(TABLES["by-kind"]),
            [str(_("Kind")), str(_("Agreements"))],
            [(label, n) for _value, label, n in data["by_kind"]],
        ),
        Table(
            "by-topic",
            str(TABLES["by-topic"]),
            [str(_("Topic")), str(_("Agreements"))],
            [(name, n) for _slug, name, n in data["by_topic"]],
        ),
        Table(
            "by-country",
            str(TABLES["by-country"]),
            [str(_("Country")), str(_("Agreements"))],
            [(name, n) for _code, name, n in data["by_country"]],
        ),
        Table(
            "by-country-pair",
            str(TABLES["by-country-pair"]),
            [str(_("Country")), str(_("Country")), str(_("Agreements"))],
            [(first, second, n) for _a, _b, first, second, n in data["by_country_pair"]],
            labels=2,
        ),
        Table(
            "organisations",
            str(TABLES["organisations"]),
            [str(_("Country")), str(_("Kind")), str(_("Organisations"))],
            [(country, kind, n) for _code, country, _kind, kind, n in data["organisations"]],
            labels=2,
        ),
        Table(
            "activity",
            str(TABLES["activity"]),
            [str(_("Year")), str(_("Delegation trips")), str(_("Signing events"))],
            data["activity"],
        ),
    ]
