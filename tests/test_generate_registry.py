from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from agreements.access import Viewer
from agreements.choices import AgreementStatus, DatePrecision
from agreements.filtersets import AgreementFilterSet
from agreements.models import (
    Agreement,
    AgreementParty,
    Change,
    DelegationTrip,
    Organisation,
    Person,
    ProgrammeItem,
    SigningEvent,
    Topic,
    search_document,
)

pytestmark = pytest.mark.django_db

SMALL = ["--organisations", "10", "--agreements", "50"]


def generate(*args: str) -> str:
    out = StringIO()
    call_command("generate_registry", *SMALL, *args, stdout=out)
    return out.getvalue()


def slugs() -> dict[str, list[str]]:
    return {
        model.__name__: list(model.objects.order_by("pk").values_list("slug", flat=True))
        for model in (Agreement, Organisation, Person, Topic, DelegationTrip, SigningEvent)
    }


def test_counts_and_summary():
    output = generate("--seed", "3")
    assert "Generated" in output and "50 agreements" in output and "10 organisations" in output
    assert Agreement.objects.count() == 50
    assert Organisation.objects.count() == 10
    assert Topic.objects.exists() and Person.objects.exists() and DelegationTrip.objects.exists()
    assert ProgrammeItem.objects.exists() and SigningEvent.objects.exists()
    for agreement in Agreement.objects.prefetch_related("parties", "topics"):
        parties = [party.organisation_id for party in agreement.parties.all()]
        assert 2 <= len(parties) <= 4 and len(set(parties)) == len(parties)
        assert agreement.topics.exists()
    statuses = set(Agreement.objects.values_list("status", flat=True))
    assert {AgreementStatus.SIGNED, AgreementStatus.DRAFT, AgreementStatus.NEGOTIATING} <= statuses


def test_same_seed_same_records_other_seed_other_records():
    generate("--seed", "7")
    first = slugs()
    titles = list(Agreement.objects.order_by("pk").values_list("title_de", "title_en", "title_pl", "signed_on"))
    generate("--seed", "7", "--replace")
    assert slugs() == first
    assert list(Agreement.objects.order_by("pk").values_list("title_de", "title_en", "title_pl", "signed_on")) == titles
    generate("--seed", "8", "--replace")
    assert slugs()["Agreement"] != first["Agreement"]
    assert Agreement.objects.count() == 50


def test_records_pass_model_validation():
    generate("--seed", "1")
    # Database constraints held while inserting; the cross-row rules of clean() must hold too.
    for agreement in Agreement.objects.all():
        agreement.full_clean()
        if agreement.status in AgreementStatus.concluded():
            assert agreement.signed_on or agreement.signing_event_id
            assert agreement.parties.count() >= 2
            if agreement.is_public:
                assert agreement.published_at is not None
        # The effective signing date is what the model's rule (and the database's triggers) make of the row.
        assert (agreement.signed_date, agreement.signed_date_precision) == agreement.effective_signing_date()
    for model in (SigningEvent, ProgrammeItem, DelegationTrip, Organisation, Person, Topic):
        for obj in model.objects.all():
            obj.full_clean()
    month_or_year = Agreement.objects.exclude(signed_on_precision=DatePrecision.DAY).exclude(signed_on=None)
    assert all(a.signed_on.day == 1 for a in month_or_year)


def test_visibility_rules_select_a_subset():
    generate("--seed", "2", "--agreements", "200")
    total = Agreement.objects.count()
    published = Agreement.objects.published()
    public = Agreement.objects.visible_to(Viewer())
    assert 0 < published.count() < total
    assert set(public.values_list("pk", flat=True)) == set(published.values_list("pk", flat=True))
    assert Agreement.objects.exclude(is_public=True).exists()
    assert Agreement.objects.filter(status__in=[AgreementStatus.DRAFT, AgreementStatus.NEGOTIATING]).exists()
    party = AgreementParty.objects.filter(agreement__is_public=False).first()
    partner = Agreement.objects.visible_to(Viewer(organisation_ids=frozenset({party.organisation_id})))
    assert published.count() < partner.count() < total
    assert 0 < Person.objects.visible_to(Viewer()).count() < Person.objects.count()


def test_generated_registry_is_served(client):
    generate("--seed", "4")
    published = Agreement.objects.published()
    response = client.get("/api/v1/agreements/?page_size=50")
    assert response.status_code == 200
    assert response.json()["count"] == published.count()
    assert client.get("/").status_code == 200
    agreement = published.first()
    assert client.get(agreement.get_absolute_url()).status_code == 200
    assert client.get(agreement.parties.first().organisation.get_absolute_url()).status_code == 200


def test_search_document_is_filled():
    generate("--seed", "5")
    assert not Agreement.objects.filter(search_text=None).exists()
    agreement = Agreement.objects.published().first()
    word = agreement.parties.first().organisation.display_name
    found = AgreementFilterSet({"q": word}, queryset=Agreement.objects.all()).qs
    assert agreement in found


def test_refuses_a_registry_with_agreements():
    generate("--seed", "1")
    before = slugs()
    with pytest.raises(CommandError, match="already holds 50 agreements; nothing was changed"):
        generate("--seed", "9")
    assert slugs() == before


def test_refuses_too_few_organisations():
    with pytest.raises(CommandError, match="at least 2"):
        call_command("generate_registry", "--organisations", "1", "--agreements", "5", stdout=StringIO())
    assert not Organisation.objects.exists()


def test_derived_columns_are_what_the_model_derives():
    generate("--seed", "6")
    document = search_document()
    derived = Agreement.objects.annotate(text=document["search_text"], title=document["search_title"])
    rows = list(derived.values_list("search_text", "text", "search_title", "title"))
    assert len(rows) == 50
    # Line by line in any order: the parties' names are aggregated in no stated
    # order, which another plan for the same expression need not keep.
    assert [(sorted(stored.split("\n")), title) for stored, _t, title, _ in rows] == [
        (sorted(text.split("\n")), title) for _s, text, _t, title in rows
    ]
    assert all(len(text) > 100 for text, *_ in rows)


def test_indexes_are_as_before():
    def indexes():
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, Agreement._meta.db_table)
        return {name: (c["columns"], c["type"], c["unique"]) for name, c in constraints.items() if c["index"]}

    before = indexes()
    generate("--seed", "7")
    assert indexes() == before


def test_change_feed_restarts_and_records_later_writes():
    """The load writes no feed entries (a generated registry is there "as of
    now"); the feed's triggers are on again afterwards."""
    generate("--seed", "8")
    assert not Change.objects.exists()
    agreement = Agreement.objects.published().first()
    Agreement.objects.filter(pk=agreement.pk).update(title_en="Changed after the load")
    AgreementParty.objects.filter(agreement=agreement).first().save()
    assert list(Change.objects.values_list("resource", "slug", "operation")) == [
        ("agreement", agreement.slug, "update"),
        ("agreement", agreement.slug, "update"),
    ]
