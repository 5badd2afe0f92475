import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import translation

from agreements.models import (
    Agreement,
    AgreementParty,
    AgreementSource,
    DelegationTrip,
    Organisation,
    Person,
    ProgrammeItem,
    SigningEvent,
    Topic,
    TripStop,
)

from .factories import UserFactory

pytestmark = pytest.mark.django_db

MODELS = [
    Organisation,
    Person,
    Topic,
    DelegationTrip,
    TripStop,
    SigningEvent,
    ProgrammeItem,
    Agreement,
    AgreementParty,
    AgreementSource,
]


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def history_counts():
    return {model.__name__: model.history.count() for model in MODELS}


def load(verbosity=1) -> str:
    out = StringIO()
    call_command("load_founding_data", stdout=out, verbosity=verbosity)
    return out.getvalue()


def test_loads_the_founding_example():
    output = load()
    assert counts() == {
        "Organisation": 5,
        "Person": 1,
        "Topic": 5,
        "DelegationTrip": 1,
        "TripStop": 3,
        "SigningEvent": 1,
        "ProgrammeItem": 3,
        "Agreement": 2,
        "AgreementParty": 4,
        "AgreementSource": 5,
    }
    assert "30 created, 0 updated, 0 unchanged, 0 skipped" in output


def test_loading_twice_changes_nothing():
    load()
    before, history_before = counts(), history_counts()
    updated = {a.slug: a.updated_at for a in Agreement.objects.all()}
    output = load()
    assert counts() == before
    assert history_counts() == history_before
    assert {a.slug: a.updated_at for a in Agreement.objects.all()} == updated
    assert "0 created, 0 updated, 30 unchanged, 0 skipped" in output


def test_key_facts_are_present():
    load()
    amz_saam = Agreement.objects.get(slug="amz-sa-am-cooperation-2021")
    assert {p.organisation.short_name for p in amz_saam.parties.all()} == {"AMZ", "SA&AM"}
    assert amz_saam.status == "signed" and amz_saam.is_public
    assert amz_saam.signed_on == datetime.date(2021, 10, 7)
    assert amz_saam.signing_event.city == "Katowice"
    assert set(amz_saam.topics.values_list("slug", flat=True)) == {
        "supply-chain-digitalisation",
        "automotive-transformation",
        "rural-sme-suppliers",
    }
    assert "Digitalisierung von Zulieferketten" in amz_saam.objectives_de
    assert "supply chains" in amz_saam.objectives_en
    assert amz_saam.sources.filter(url__contains="amz-sachsen.de").exists()

    soda = Agreement.objects.get(slug="silicon-saxony-soda-cooperation-2021")
    assert {p.organisation.slug for p in soda.parties.all()} == {"silicon-saxony", "soda"}
    assert "cross-border networks" in soda.objectives_en

    minister = Person.objects.get(slug="thomas-schmidt")
    assert minister.is_public and minister.organisation.kind == "public_authority"
    with translation.override("en"):
        assert minister.position == "Saxon State Minister for Regional Development"

    trip = DelegationTrip.objects.get()
    assert trip.leader == minister
    assert (trip.start_date, trip.destination_country.code, trip.delegation_size) == (
        datetime.date(2021, 10, 6),
        "PL",
        30,
    )
    assert list(trip.stops.values_list("city", flat=True)) == ["Katowice", "Kraków", "Opole"]
    assert trip.stops.get(city="Opole").arrival_date == datetime.date(2021, 10, 9)
    workshop = trip.programme_items.get(kind="workshop")
    assert workshop.participant_count == 70 and workshop.part_of.kind == "forum"
    assert "simul+" in workshop.title_de
    forum = trip.programme_items.get(kind="forum")
    assert "European Parliament" in forum.description_en
    event = SigningEvent.objects.get()
    assert event.trip == trip and list(event.people_present.all()) == [minister]
    assert event.agreements.count() == 2

    for organisation in Organisation.objects.all():
        assert organisation.description_de and organisation.description_en


def test_never_overwrites_what_staff_edited():
    load()
    staff = UserFactory(username="editor", is_staff=True)
    agreement = Agreement.objects.get(slug="amz-sa-am-cooperation-2021")
    agreement.summary_en = "Edited by staff."
    agreement._history_user = staff
    agreement.save()
    source = agreement.sources.get(url__contains="autoland")
    source._history_user = staff
    source.delete()

    output = load()

    agreement.refresh_from_db()
    assert agreement.summary_en == "Edited by staff."
    assert not agreement.sources.filter(url__contains="autoland").exists()
    assert "skipped   agreement amz-sa-am-cooperation-2021: edited by editor" in output
    assert "deleted or renamed by staff, not re-created" in output
    assert "0 created, 0 updated, 28 unchanged, 2 skipped" in output


def test_refreshes_its_own_records_when_they_differ():
    load()
    # A change that bypasses history leaves the loader as the last author.
    Topic.objects.filter(slug="software-development").update(name_en="Old name")
    output = load()
    assert Topic.objects.get(slug="software-development").name_en == "Software development"
    assert "updated   topic software-development (name_en)" in output


def test_reports_unchanged_records_when_verbose():
    load()
    assert "unchanged organisation amz" in load(verbosity=2)
