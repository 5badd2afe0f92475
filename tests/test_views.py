"""Public pages in all three languages: what they show, what they never show,
filters through the page, and constant query counts."""

import datetime
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .factories import (
    AgreementDocumentFactory,
    AgreementFactory,
    DelegationTripFactory,
    OrganisationFactory,
    PersonFactory,
    ProgrammeItemFactory,
    SignatoryFactory,
    SigningEventFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db
LANGUAGES = {"de": "", "en": "/en", "pl": "/pl"}


@pytest.fixture
def site(founding_data):
    """The founding example plus records the public must never see."""
    amz = OrganisationFactory._meta.model.objects.get(slug="amz")
    soda = OrganisationFactory._meta.model.objects.get(slug="soda")
    event = SigningEventFactory._meta.model.objects.get()
    AgreementFactory(
        slug="secret-draft",
        parties=[amz, soda],
        title_de="GEHEIMER ENTWURF",
        title_en="SECRET DRAFT",
        signing_event=event,
        topics=[TopicFactory(slug="hidden-topic")],
    )
    AgreementFactory(
        slug="unpublished",
        signed=True,
        is_public=False,
        parties=[amz, soda],
        title_de="NICHT ÖFFENTLICH",
        title_en="NOT PUBLIC",
        signing_event=event,
    )
    public = AgreementFactory._meta.model.objects.get(slug="amz-sa-am-cooperation-2021")
    SignatoryFactory(agreement=public, person=PersonFactory(name="PRIVATE PERSON", is_public=False), organisation=amz)
    SignatoryFactory(agreement=public, person=PersonFactory(name="Public Signer", is_public=True), organisation=amz)
    event.people_present.add(PersonFactory(name="HIDDEN GUEST", is_public=False))
    AgreementDocumentFactory(agreement=public, title="INTERNAL ANNEX", is_public=False)
    AgreementDocumentFactory(agreement=public, title="Signed copy", is_public=True)


SECRETS = [
    "GEHEIMER ENTWURF",
    "SECRET DRAFT",
    "NICHT ÖFFENTLICH",
    "NOT PUBLIC",
    "PRIVATE PERSON",
    "HIDDEN GUEST",
    "INTERNAL ANNEX",
    "secret-draft",
    "unpublished",
    "hidden-topic",
]

PAGES = {
    "home": (
        "/",
        {
            "de": "Unterzeichnete Kooperationsvereinbarungen",
            "en": "Signed cooperation agreements",
            "pl": "Podpisane umowy o współpracy",
        },
    ),
    "agreement_list": (
        "/agreements/",
        {
            "de": "Kooperationsvereinbarung zwischen AMZ und SA&amp;AM",
            "en": "Cooperation agreement between AMZ and SA&amp;AM",
            "pl": "Umowa o współpracy między AMZ a SA&amp;AM",
        },
    ),
    "agreement": (
        "/agreements/amz-sa-am-cooperation-2021/",
        {"de": "7. Oktober 2021", "en": "Oct. 7, 2021", "pl": "7 października 2021"},
    ),
    "organisations": (
        "/organisations/",
        {"de": "Silicon Saxony e. V.", "en": "Silicon Saxony e. V.", "pl": "Silicon Saxony e. V."},
    ),
    "organisation": ("/organisations/amz/", {"de": "Partner", "en": "Partners", "pl": "Partnerzy"}),
    "trips": ("/trips/", {"de": "Delegationsreisen", "en": "Delegation trips", "pl": "Podróże delegacji"}),
    "trip": (
        "/trips/saxon-delegation-poland-2021/",
        {"de": "simul+Werkstatt", "en": "simul+ workshop", "pl": "Warsztat simul+"},
    ),
    "signing_event": (
        "/signing-events/katowice-2021-10-07/",
        {"de": "Thomas Schmidt", "en": "Thomas Schmidt", "pl": "Thomas Schmidt"},
    ),
    "topics": (
        "/topics/",
        {"de": "Softwareentwicklung", "en": "Software development", "pl": "Wytwarzanie oprogramowania"},
    ),
    "topic": (
        "/topics/software-development/",
        {"de": "Silicon Saxony", "en": "Silicon Saxony", "pl": "Silicon Saxony"},
    ),
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("page", PAGES)
def test_every_page_in_every_language(client, site, page, language):
    path, expected = PAGES[page]
    response = client.get(LANGUAGES[language] + path)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert expected[language] in html
    assert html.count("<h1") == 1
    assert '<main id="main"' in html and 'href="#main"' in html
    for secret in SECRETS:
        assert secret not in html, (page, language, secret)
    # Nothing is loaded from other hosts (canonical and alternate links name addresses, they load nothing).
    loads = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="https?://[^"]*"[^>]*>', html)
    assert [tag for tag in loads if not re.search(r'rel="(?:canonical|alternate)"', tag)] == []


def test_agreement_page_shows_what_the_public_may_see(client, site):
    html = client.get("/en/agreements/amz-sa-am-cooperation-2021/").content.decode()
    for text in [
        "Netzwerk Automobilzulieferer Sachsen",
        "Germany",
        "Poland",
        "Public Signer",
        "Signed copy",
        "Supply-chain digitalisation",
        "Digitalising supply chains",
        "amz-sachsen.de",
        "Signing of Saxon-Polish cooperation agreements in Katowice",
        "State Minister Thomas Schmidt&#x27;s delegation trip to Poland",
    ]:
        assert text in html, text


def test_hidden_agreements_are_404(client, site):
    for slug in ("secret-draft", "unpublished", "does-not-exist"):
        assert client.get(f"/en/agreements/{slug}/").status_code == 404


def test_agreement_json_ld(client, site):
    html = client.get("/en/agreements/amz-sa-am-cooperation-2021/").content.decode()
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
    assert data["@type"] == "CreativeWork"
    assert {party["@type"] for party in data["contributor"]} == {"Organization"}
    html = client.get("/en/trips/saxon-delegation-poland-2021/").content.decode()
    trip = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
    assert trip["@type"] == "Event" and len(trip["subEvent"]) == 3
    assert all(item["superEvent"]["name"] == trip["name"] for item in trip["subEvent"])
    html = client.get("/en/signing-events/katowice-2021-10-07/").content.decode()
    event = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
    assert event["superEvent"]["name"] == trip["name"]


def test_language_switcher_keeps_the_page_and_the_filters(client, site):
    html = client.get("/en/agreements/?country=PL&q=digital").content.decode()
    assert 'href="/agreements/?country=PL&amp;q=digital" lang="de"' in html
    assert 'href="/pl/agreements/?country=PL&amp;q=digital" lang="pl"' in html
    assert 'aria-current="true">English' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"amz-sa-am-cooperation-2021", "silicon-saxony-soda-cooperation-2021"}),
        ("party=amz", {"amz-sa-am-cooperation-2021"}),
        ("country=PL", {"amz-sa-am-cooperation-2021", "silicon-saxony-soda-cooperation-2021"}),
        ("topic=software-development", {"silicon-saxony-soda-cooperation-2021"}),
        ("kind=letter_of_intent", set()),
        ("year=2021", {"amz-sa-am-cooperation-2021", "silicon-saxony-soda-cooperation-2021"}),
        ("year=2020", set()),
        ("trip=saxon-delegation-poland-2021", {"amz-sa-am-cooperation-2021", "silicon-saxony-soda-cooperation-2021"}),
        ("q=Silicon", {"silicon-saxony-soda-cooperation-2021"}),
        ("q=GEHEIMER", set()),
        ("party=amz&ordering=title", {"amz-sa-am-cooperation-2021"}),
        ("party=&country=&q=", {"amz-sa-am-cooperation-2021", "silicon-saxony-soda-cooperation-2021"}),
    ],
)
def test_filters_through_the_page(client, site, query, expected):
    response = client.get(f"/en/?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    found = set(re.findall(r'<th scope="row"><a href="/en/agreements/([\w-]+)/"', html))
    assert found == expected
    if not expected:
        assert "No agreement matches these filters." in html and "Clear all filters" in html


@pytest.mark.parametrize(
    "query",
    [
        "year=abc",
        "party=nobody",
        "country=XX",
        "year=1800",
        "ordering=secret",
        "page=99",
        "page=x",
        "q=" + "x" * 300,
        "topic=hidden-topic%00",
    ],
)
def test_bad_parameters_get_a_friendly_message(client, site, query):
    response = client.get(f"/en/?{query}")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Some filters could not be used" in html
    assert "Clear all filters and show every agreement" in html
    assert "Traceback" not in html


def test_pagination(client, founding_data):
    for index in range(25):
        AgreementFactory(signed=True, slug=f"bulk-{index:02d}", signed_on=datetime.date(2020, 1, 1))
    first = client.get("/en/").content.decode()
    assert "27 agreements found" in first and "Page 1 of 2" in first
    second = client.get("/en/?page=2").content.decode()
    assert "Page 2 of 2" in second and 'rel="prev"' in second


def page_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def make_public_rows(n):
    topic = TopicFactory()
    trip = DelegationTripFactory()
    for _ in range(n):
        event = SigningEventFactory(trip=trip)
        event.people_present.set([PersonFactory()])
        agreement = AgreementFactory(signed=True, topics=[topic], signing_event=event)
        SignatoryFactory(agreement=agreement)
        AgreementDocumentFactory(agreement=agreement, is_public=True)
        ProgrammeItemFactory(trip=trip, signing_event=event)
    return trip, topic


@pytest.mark.parametrize("page", ["/en/", "/en/organisations/", "/en/trips/", "/en/topics/", "/en/agreements.csv"])
def test_list_pages_run_a_constant_number_of_queries(client, page):
    make_public_rows(1)
    one = page_queries(client, page)
    make_public_rows(49)
    fifty = page_queries(client, page)
    assert one == fifty, f"{page}: {one} queries for 1 row, {fifty} for 50"


def test_detail_pages_run_a_constant_number_of_queries(client):
    trip, topic = make_public_rows(1)
    agreement = topic.agreements.first()
    organisation = agreement.parties.first().organisation

    def pages():
        return [
            agreement.get_absolute_url(),
            organisation.get_absolute_url(),
            trip.get_absolute_url(),
            topic.get_absolute_url(),
            agreement.signing_event.get_absolute_url(),
        ]

    before = [page_queries(client, page) for page in pages()]
    make_public_rows(49)
    for extra in topic.agreements.all()[:20]:
        AgreementFactory(
            signed=True,
            parties=[organisation, OrganisationFactory()],
            topics=[topic],
            signing_event=extra.signing_event,
        )
    after = [page_queries(client, page) for page in pages()]
    assert before == after


def test_the_filter_block_is_rendered_once_per_state_of_the_data(client):
    """A new address (another page, an ignored parameter) is a new page, but its
    filter block (choices and counts) comes from the cache; a write shows at once."""
    make_public_rows(3)
    first = page_queries(client, "/en/")
    again = page_queries(client, "/en/?utm_source=x")  # a new address: the page is produced, not its filters
    assert again < first
    assert 'value="org-late"' not in client.get("/en/?utm_source=y").content.decode()
    AgreementFactory(signed=True, parties=[OrganisationFactory(slug="org-late", name="Late Partner")])
    assert 'value="org-late"' in client.get("/en/?utm_source=z").content.decode()
