"""Search that finds (issue 15): accents and case ignored in German, English and
Polish, parts of words (prefixes, parts of German compounds), the parties'
names and regions and the signing place, ranked; the same on SQLite and
PostgreSQL, through the API, the public pages, the downloads and the admin."""

import datetime
import re

import pytest
from django.db import connection
from django.db.models import Value
from django.test.utils import CaptureQueriesContext

from agreements.models import Agreement, Organisation, SigningEvent
from agreements.search import fold, folded

from .factories import AgreementFactory, OrganisationFactory
from .helpers import ROLES, SEES_HIDDEN_OF_A, body, staff_client

pytestmark = pytest.mark.django_db

AMZ = "amz-sa-am-cooperation-2021"
SOFTWARE = "silicon-saxony-soda-cooperation-2021"
BOTH = {AMZ, SOFTWARE}

FOUNDING_QUERIES = [
    # Silesian: the SA&AM agreement (Polish summary "śląski", the region "Województwo śląskie").
    ("Śląsk", {AMZ}),
    ("Slask", {AMZ}),
    ("śląski", {AMZ}),
    ("ŚLĄSK", {AMZ}),
    ("wojewodztwo", {AMZ}),
    ("dostawców", {AMZ}),
    ("dostawcow", {AMZ}),
    # Prefixes and parts of German compounds.
    ("Kooperation", BOTH),
    ("vereinbarung", BOTH),
    ("zulieferer", {AMZ}),
    ("Sili", {SOFTWARE}),
    ("Siles", {AMZ}),
    ("sil", BOTH),
    # The signing event's city, the parties' names and regions.
    ("Katowice", BOTH),
    ("KATOWICE", BOTH),
    ("katowice", BOTH),
    ("Sachsen", BOTH),
    ("sachsen", BOTH),
    ("SoDA", {SOFTWARE}),
    ("SA&AM", {AMZ}),
    ("Software Development Association", {SOFTWARE}),
    # Every word must occur; a quoted phrase as written.
    ("Katowice SoDA", {SOFTWARE}),
    ('"Silicon Saxony"', {SOFTWARE}),
    ('"Saxony Silicon"', set()),
    ("Xylophon", set()),
    # Wildcards are letters like any other.
    ("%", set()),
    ("_", set()),
]


def api_slugs(client, query, **params) -> list[str]:
    response = client.get("/api/v1/agreements/", {"q": query, **params})
    assert response.status_code == 200, response.content
    return [row["slug"] for row in response.json()["results"]]


def page_slugs(client, query, path="/en/agreements/") -> list[str]:
    response = client.get(path, {"q": query})
    assert response.status_code == 200
    found = re.findall(r'href="/en/agreements/([a-z0-9-]+)/"', body(response))
    return list(dict.fromkeys(found))


@pytest.mark.parametrize(("query", "expected"), FOUNDING_QUERIES)
def test_the_founding_agreements_are_found(founding_data, client, query, expected):
    assert set(api_slugs(client, query)) == expected
    assert set(page_slugs(client, query)) == expected
    csv = body(client.get("/agreements.csv", {"q": query}))
    assert {slug for slug in BOTH if f"/agreements/{slug}/" in csv} == expected


def test_the_other_resources_fold_too(founding_data, client):
    def slugs(resource, query):
        response = client.get(f"/api/v1/{resource}/", {"q": query})
        assert response.status_code == 200
        return {row["slug"] for row in response.json()["results"]}

    assert slugs("organisations", "slask") == {"sa-am"}
    assert slugs("organisations", "SACHSEN") == {"amz", "silicon-saxony", "smr-sachsen"}
    assert slugs("signing-events", "katowice") == set(SigningEvent.objects.values_list("slug", flat=True))
    assert slugs("topics", "grenzuberschreitende") == {"cross-border-networking"}
    assert slugs("trips", "Polen Schmidt") == {"saxon-delegation-poland-2021"}
    assert slugs("people", "sachsischer staatsminister") == {"thomas-schmidt"}
    assert slugs("organisations", "Łódź") == set()


def test_hidden_agreements_are_found_only_by_who_may_see_them(role_clients):
    for role in ROLES:
        client = role_clients[role]
        for query in ("xyzzy", "XYZZY", "Xyżźy"):
            assert ("hidden-a" in api_slugs(client, query)) == (role in SEES_HIDDEN_OF_A), (role, query)
            assert page_slugs(client, query) == [], (role, query)
        # The hidden agreement's party (FAR) and its signing place do not leak it either.
        assert ("hidden-a" in api_slugs(client, "Far Partners")) == (role in SEES_HIDDEN_OF_A), role


def test_an_exact_title_comes_first_then_titles_then_the_rest(db, client):
    day = datetime.date(2024, 1, 1)

    def agreement(slug, days, **texts):
        return AgreementFactory(slug=slug, signed=True, signed_on=day + datetime.timedelta(days=days), **texts)

    agreement("summary-newest", 30, title_en="Regional partnership", summary_en="A Wasserstoffpartnerschaft for all")
    agreement("title-part", 20, title_en="Ostsee-Wasserstoffpartnerschaft")
    agreement("exact-oldest", 10, title_de="Wasserstoffpartnerschaft")
    assert api_slugs(client, "wasserstoffpartnerschaft") == ["exact-oldest", "title-part", "summary-newest"]
    assert page_slugs(client, "Wasserstoffpartnerschaft") == ["exact-oldest", "title-part", "summary-newest"]
    # An order asked for wins over the rank.
    ordered = api_slugs(client, "wasserstoffpartnerschaft", ordering="-signed_on")
    assert ordered == ["summary-newest", "title-part", "exact-oldest"]


def test_the_searchable_text_follows_its_parties_and_signing_place(cast, client):
    assert api_slugs(client, "Bielsko") == []
    event = cast.event
    event.city = "Bielsko-Biała"
    event.save()
    assert api_slugs(client, "bielsko-biala") == ["public-a"]

    organisation = cast.org_c
    organisation.region = "Dolnośląskie"
    organisation.save()
    assert api_slugs(client, "dolnoslaskie") == ["public-a"]

    newcomer = OrganisationFactory(name="Łużyce Forum")
    cast.public_a.parties.create(organisation=newcomer, position=9)
    assert api_slugs(client, "luzyce") == ["public-a"]
    cast.public_a.parties.get(organisation=newcomer).delete()
    assert api_slugs(client, "luzyce") == []


def test_the_admin_searches_summaries_and_objectives_in_every_language(founding_data):
    client = staff_client("registrar", "registry admin")

    def changelist(model, query):
        response = client.get(f"/admin/agreements/{model}/", {"q": query})
        assert response.status_code == 200
        return body(response)

    for query in ("śląski", "SLASKI", "cyfryzacja", "Mittelstandische", "rural areas", "Katowice"):
        html = changelist("agreement", query)
        assert f"/{Agreement.objects.get(slug=AMZ).pk}/change/" in html, query
        assert f"/{Agreement.objects.get(slug=SOFTWARE).pk}/change/" not in html or query == "Katowice", query
    assert "Silesia Automotive" in changelist("organisation", "slaskie")
    assert "Silesia Automotive" not in changelist("organisation", "sachsen")


def test_a_search_costs_the_same_queries_whatever_it_finds(founding_data, client):
    def queries(query):
        with CaptureQueriesContext(connection) as context:
            assert client.get("/api/v1/agreements/", {"q": query}).status_code == 200
            assert client.get("/agreements/", {"q": query}).status_code == 200
        return len(context.captured_queries)

    few = queries("Kooperation")
    for number in range(12):
        AgreementFactory(slug=f"more-{number}", signed=True, title_de=f"Kooperationsvertrag {number}")
    assert queries("kooperation") == few


@pytest.mark.parametrize(
    "text",
    ["Śląsk Łódź Żółć", "Straße GROẞ", "Ærøskøbing Œuvre", "Müller Göß Ähre", "Čeština Ñandú Ångström", "İstanbul"],
)
def test_the_database_folds_text_as_the_query_is_folded(db, text):
    """Stored text is folded by the database, query words in Python: they must agree."""
    database = Organisation.objects.annotate(text=folded(Value(text))).values_list("text", flat=True)
    OrganisationFactory()
    assert list(database) == [fold(text)]
