import pytest
from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from agreements.services import token_create

from ..factories import AgreementFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_limits(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anonymous": "3/minute", "partner": "5/minute", "staff": "100/minute"},
    }
    assert api_settings.DEFAULT_THROTTLE_RATES["anonymous"] == "3/minute"
    cache.clear()
    yield
    cache.clear()


def test_cache_is_shared_not_per_process(settings):
    from django.core.cache import caches
    from django.core.cache.backends.db import DatabaseCache
    from django.core.cache.backends.redis import RedisCache

    # The database table, or Redis (registry.cache.ResilientRedisCache is Django's RedisCache with a breaker).
    assert isinstance(caches["default"], DatabaseCache | RedisCache)


def test_anonymous_callers_are_limited_per_address(low_limits):
    client = APIClient()
    statuses = [client.get("/api/v1/topics/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/topics/")
    assert int(response["Retry-After"]) > 0
    # Another address still gets through; a forged X-Forwarded-For does not help.
    assert APIClient(REMOTE_ADDR="10.1.1.1").get("/api/v1/topics/").status_code == 200
    forged = APIClient(HTTP_X_FORWARDED_FOR="10.9.9.9").get("/api/v1/topics/")
    assert forged.status_code == 429


def test_partner_tokens_are_limited_per_token(low_limits):
    _, key = token_create(name="p", organisation=OrganisationFactory())
    _, other = token_create(name="q", organisation=OrganisationFactory())
    client = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
    statuses = [client.get("/api/v1/topics/").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    assert APIClient(HTTP_AUTHORIZATION=f"Token {other}").get("/api/v1/topics/").status_code == 200


def test_etag_and_304_on_lists_and_details():
    agreement = AgreementFactory(signed=True)
    client = APIClient()
    for url in ("/api/v1/agreements/", f"/api/v1/agreements/{agreement.slug}/"):
        first = client.get(url)
        etag = first["ETag"]
        assert first.status_code == 200 and etag
        again = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert again.status_code == 304 and not again.content
    # A change gives a new tag.
    list_etag = client.get("/api/v1/agreements/")["ETag"]
    agreement.title_en = "Changed"
    agreement.save()
    assert client.get("/api/v1/agreements/", HTTP_IF_NONE_MATCH=list_etag).status_code == 200


def test_etag_differs_by_language_and_caller():
    AgreementFactory(signed=True)
    anonymous = APIClient().get("/api/v1/agreements/")["ETag"]
    english = APIClient(HTTP_ACCEPT_LANGUAGE="en").get("/api/v1/agreements/")["ETag"]
    _, key = token_create(name="p", organisation=OrganisationFactory())
    partner = APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/agreements/")["ETag"]
    assert len({anonymous, english, partner}) == 3


def test_a_party_rename_changes_the_agreement_etag():
    agreement = AgreementFactory(signed=True)
    client = APIClient()
    etag = client.get(f"/api/v1/agreements/{agreement.slug}/")["ETag"]
    organisation = agreement.parties.first().organisation
    organisation.name = "Renamed"
    organisation.save()
    response = client.get(f"/api/v1/agreements/{agreement.slug}/", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert "Renamed" in {p["organisation"]["name"] for p in response.json()["parties"]}


def test_accept_language_selects_translations():
    AgreementFactory(signed=True, slug="x", title_de="Vereinbarung", title_en="Agreement", title_pl="")
    assert APIClient(HTTP_ACCEPT_LANGUAGE="en").get("/api/v1/agreements/x/").json()["title"] == "Agreement"
    assert APIClient(HTTP_ACCEPT_LANGUAGE="de").get("/api/v1/agreements/x/").json()["title"] == "Vereinbarung"
    # No Polish title: falls back to the original language (German by default).
    assert APIClient(HTTP_ACCEPT_LANGUAGE="pl").get("/api/v1/agreements/x/").json()["title"] == "Vereinbarung"


def count_own_queries(client, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        response = client.get(path)
    assert response.status_code == 200
    return response, [
        q for q in context.captured_queries if "registry_cache" not in q["sql"] and "SAVEPOINT" not in q["sql"]
    ]


def test_a_repeated_answer_comes_from_the_cache_with_one_query():
    for _ in range(3):
        AgreementFactory(signed=True)
    client = APIClient()
    agreement = AgreementFactory(signed=True)
    for path in ("/api/v1/agreements/?page_size=2", f"/api/v1/agreements/{agreement.slug}/"):
        first, first_queries = count_own_queries(client, path)
        again, again_queries = count_own_queries(client, path)
        assert again.content == first.content and again["ETag"] == first["ETag"]
        assert len(again_queries) == 1 < len(first_queries)  # only the version stamp


@pytest.mark.parametrize("what", ["topic", "signatory", "signing event", "trip"])
def test_every_change_an_agreement_shows_changes_its_answer(what):
    from ..factories import PersonFactory, SignatoryFactory, SigningEventFactory, TopicFactory

    topic = TopicFactory(name_en="Old topic")
    event = SigningEventFactory(title_en="Old event")
    agreement = AgreementFactory(signed=True, topics=[topic], signing_event=event)
    person = PersonFactory(name="Old Person", is_public=True)
    SignatoryFactory(agreement=agreement, person=person)
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    path = f"/api/v1/agreements/{agreement.slug}/"
    etag = client.get(path)["ETag"]
    list_etag = client.get("/api/v1/agreements/")["ETag"]
    record, field, value = {
        "topic": (topic, "name_en", "New topic"),
        "signatory": (person, "name", "New Person"),
        "signing event": (event, "title_en", "New event"),
        "trip": (event.trip, "title_en", "New trip"),
    }[what]
    setattr(record, field, value)
    record.save()
    response = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and value in response.content.decode()
    listing = client.get("/api/v1/agreements/", HTTP_IF_NONE_MATCH=list_etag)
    assert listing.status_code == 200 and value in listing.content.decode()
