"""FilterSets tested directly, without HTTP (the API and the public pages share them)."""

import datetime

import pytest
from django.utils import timezone

from agreements.filtersets import (
    AgreementFilterSet,
    DelegationTripFilterSet,
    OrganisationFilterSet,
    PersonFilterSet,
    SigningEventFilterSet,
    TopicFilterSet,
)
from agreements.models import Agreement, DelegationTrip, Organisation, Person, SigningEvent, Topic

from .factories import (
    AgreementFactory,
    DelegationTripFactory,
    OrganisationFactory,
    PersonFactory,
    SigningEventFactory,
    TopicFactory,
    TripStopFactory,
)

pytestmark = pytest.mark.django_db


def agreements(data) -> list[str]:
    filterset = AgreementFilterSet(data, queryset=Agreement.objects.all())
    assert filterset.is_valid(), filterset.errors
    return sorted(a.slug for a in filterset.qs)


def errors(filterset_class, model, data) -> dict:
    filterset = filterset_class(data, queryset=model.objects.all())
    assert not filterset.is_valid()
    return filterset.errors


@pytest.fixture
def registry():
    de = OrganisationFactory(slug="saxony-cluster", name="Saxony Cluster", short_name="SC", country="DE")
    pl = OrganisationFactory(slug="silesia-cluster", name="Silesia Cluster", short_name="SIL", country="PL")
    cz = OrganisationFactory(slug="bohemia", name="Bohemia Network", short_name="BN", country="CZ")
    software, auto = TopicFactory(slug="software"), TopicFactory(slug="automotive")
    trip = DelegationTripFactory(slug="poland-2021")
    event = SigningEventFactory(trip=trip)
    AgreementFactory(
        slug="de-pl",
        signed=True,
        parties=[de, pl],
        topics=[auto],
        signing_event=event,
        signed_on=datetime.date(2021, 10, 7),
        title_en="Automotive supply chains",
        summary_en="Digitalising supplier networks",
    )
    AgreementFactory(
        slug="de-cz",
        signed=True,
        parties=[de, cz],
        topics=[software],
        signed_on=datetime.date(2019, 5, 1),
        signed_on_precision="month",
        title_en="Software bridge",
        valid_from=datetime.date(2019, 5, 1),
        valid_until=datetime.date(2020, 5, 1),
    )
    AgreementFactory(slug="pl-cz-draft", parties=[pl, cz], title_en="Hydrogen draft", kind="letter_of_intent")


def test_no_parameters_means_everything(registry):
    assert agreements({}) == ["de-cz", "de-pl", "pl-cz-draft"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"status": ["signed"]}, ["de-cz", "de-pl"]),
        ({"status": ["draft", "expired"]}, ["de-cz", "pl-cz-draft"]),
        ({"status": ["expired"]}, ["de-cz"]),
        ({"kind": ["letter_of_intent"]}, ["pl-cz-draft"]),
        ({"party": ["saxony-cluster"]}, ["de-cz", "de-pl"]),
        ({"party": ["saxony-cluster", "silesia-cluster"]}, ["de-pl"]),
        ({"country": ["CZ"]}, ["de-cz", "pl-cz-draft"]),
        ({"country": ["PL", "CZ"]}, ["de-cz", "de-pl", "pl-cz-draft"]),
        ({"topic": ["software"]}, ["de-cz"]),
        ({"topic": ["software", "automotive"]}, ["de-cz", "de-pl"]),
        ({"trip": "poland-2021"}, ["de-pl"]),
        ({"year": "2019"}, ["de-cz"]),
        ({"signed_after": "2020-01-01"}, ["de-pl"]),
        ({"signed_before": "2020-01-01"}, ["de-cz"]),
        ({"signed_after": "2019-01-01", "signed_before": "2021-12-31", "country": ["PL"]}, ["de-pl"]),
        ({"q": "supply"}, ["de-pl"]),
        ({"q": "Silesia"}, ["de-pl", "pl-cz-draft"]),
        ({"q": "hydrogen", "status": ["draft"]}, ["pl-cz-draft"]),
        ({"q": "   "}, ["de-cz", "de-pl", "pl-cz-draft"]),
    ],
)
def test_agreement_filters(registry, data, expected):
    assert agreements(data) == expected


def test_updated_after_for_incremental_sync(registry):
    cutoff = timezone.now()
    assert agreements({"updated_after": cutoff.isoformat()}) == []
    agreement = Agreement.objects.get(slug="de-cz")
    agreement.title_en = "Changed"
    agreement.save()
    assert agreements({"updated_after": cutoff.isoformat()}) == ["de-cz"]


def test_ordering(registry):
    filterset = AgreementFilterSet({"ordering": "signed_on"}, queryset=Agreement.objects.all())
    assert [a.slug for a in filterset.qs][:2] == ["de-cz", "de-pl"]
    filterset = AgreementFilterSet(
        {"ordering": "-signed_on"}, queryset=Agreement.objects.filter(signed_on__isnull=False)
    )
    assert [a.slug for a in filterset.qs] == ["de-pl", "de-cz"]
    from django.utils import translation

    with translation.override("en"):
        filterset = AgreementFilterSet({"ordering": "title"}, queryset=Agreement.objects.all())
        assert [a.slug for a in filterset.qs] == ["de-pl", "pl-cz-draft", "de-cz"]


@pytest.mark.parametrize(
    ("data", "parameter"),
    [
        ({"status": ["finished"]}, "status"),
        ({"kind": ["treaty"]}, "kind"),
        ({"party": ["no-such-organisation"]}, "party"),
        ({"country": ["XX"]}, "country"),
        ({"topic": ["no-such-topic"]}, "topic"),
        ({"trip": "no-such-trip"}, "trip"),
        ({"signed_after": "2021-02-30"}, "signed_after"),
        ({"signed_before": "yesterday"}, "signed_before"),
        ({"updated_after": "not-a-time"}, "updated_after"),
        ({"year": "twenty"}, "year"),
        ({"year": "99999"}, "year"),
        ({"ordering": "secret_field"}, "ordering"),
        ({"q": "x" * 10_000}, "q"),
        ({"q": "nul\x00byte"}, "q"),
    ],
)
def test_bad_values_are_errors_naming_the_parameter(registry, data, parameter):
    assert list(errors(AgreementFilterSet, Agreement, data)) == [parameter]


def test_other_filtersets():
    parent = OrganisationFactory(slug="parent", country="DE", kind="public_authority")
    child = OrganisationFactory(slug="child", country="PL", kind="cluster", parent=parent, city="Katowice")
    assert list(OrganisationFilterSet({"country": ["PL"]}, queryset=Organisation.objects.all()).qs) == [child]
    assert list(OrganisationFilterSet({"parent": "parent"}, queryset=Organisation.objects.all()).qs) == [child]
    assert list(OrganisationFilterSet({"q": "katow"}, queryset=Organisation.objects.all()).qs) == [child]
    assert "kind" in errors(OrganisationFilterSet, Organisation, {"kind": ["club"]})

    person = PersonFactory(organisation=child, name="Anna Nowak")
    PersonFactory(organisation=parent)
    assert list(PersonFilterSet({"organisation": "child"}, queryset=Person.objects.all()).qs) == [person]
    assert list(PersonFilterSet({"q": "nowak"}, queryset=Person.objects.all()).qs) == [person]

    topic = TopicFactory(slug="hydrogen", name_en="Hydrogen")
    assert list(TopicFilterSet({"q": "hydro"}, queryset=Topic.objects.all()).qs) == [topic]

    trip = DelegationTripFactory(slug="trip", destination_country="PL")
    TripStopFactory(trip=trip, city="Opole")
    DelegationTripFactory(
        destination_country="CZ", start_date=datetime.date(2022, 1, 1), end_date=datetime.date(2022, 1, 2)
    )
    trips = DelegationTripFilterSet({"q": "opole"}, queryset=DelegationTrip.objects.all()).qs
    assert list(trips) == [trip]
    assert "started_after" in errors(DelegationTripFilterSet, DelegationTrip, {"started_after": "soon"})

    event = SigningEventFactory(trip=trip, country="PL")
    events = SigningEventFilterSet({"trip": "trip", "date_after": "2021-10-01"}, queryset=SigningEvent.objects.all())
    assert list(events.qs) == [event]
    assert "trip" in errors(SigningEventFilterSet, SigningEvent, {"trip": "nope"})


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("party", ["x\x00"]),
        ("topic", ["\x00"]),
        ("trip", "t\x00"),
        ("country", ["D\x00"]),
        ("status", ["\x00"]),
        ("updated_after", "2021-01-01T00:00:00+20:19"),
        ("updated_after", "0001-01-01T00:00:00+15:00"),
        ("updated_after", "2021-01-01\x00"),
    ],
)
def test_values_the_database_cannot_take_are_errors(registry, parameter, value):
    assert list(errors(AgreementFilterSet, Agreement, {parameter: value})) == [parameter]


def test_offsets_are_taken_to_utc(registry):
    assert agreements({"updated_after": "2000-01-01T00:00:00+14:00"}) == ["de-cz", "de-pl", "pl-cz-draft"]
