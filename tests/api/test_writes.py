"""Staff writes: validated like the admin, all or nothing, recorded with the user."""

import pytest
from rest_framework.test import APIClient

from agreements.models import Agreement, Organisation

from ..factories import AgreementFactory, OrganisationFactory, TopicFactory
from ..helpers import WRITE_PERMS, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor():
    return staff_user("editor", perms=WRITE_PERMS, group="registry admin")


@pytest.fixture
def api(editor):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(editor)
    return client


@pytest.fixture
def orgs():
    TopicFactory(slug="software")
    return OrganisationFactory(slug="amz"), OrganisationFactory(slug="sa-am")


def payload(**overrides):
    data = {
        "slug": "new-agreement",
        "kind": "cooperation_agreement",
        "status": "signed",
        "is_public": True,
        "title_de": "Neue Vereinbarung",
        "title_en": "New agreement",
        "signed_on": "2021-10-07",
        "signed_on_precision": "day",
        "parties": [{"organisation": "amz"}, {"organisation": "sa-am", "role": "lead"}],
        "topics": ["software"],
    }
    data.update(overrides)
    return data


def test_create_with_parties_and_topics(api, editor, orgs):
    response = api.post("/api/v1/agreements/", payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["title"] == "New agreement"
    assert [(p["organisation"]["slug"], p["role"]) for p in body["parties"]] == [("amz", "party"), ("sa-am", "lead")]
    assert [t["slug"] for t in body["topics"]] == ["software"]
    agreement = Agreement.objects.get(slug="new-agreement")
    assert agreement.history.first().history_user == editor
    assert agreement.published_at is not None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"parties": [{"organisation": "amz"}]}, "parties"),
        ({"parties": [{"organisation": "amz"}, {"organisation": "amz"}]}, "parties"),
        ({"parties": [{"organisation": "amz"}, {"organisation": "unknown"}]}, "parties"),
        ({"signed_on": None}, "signed_on"),
        ({"signed_on": "07.10.2021"}, "signed_on"),
        ({"valid_from": "2022-01-01", "valid_until": "2021-01-01"}, "__all__"),
        ({"status": "expired"}, "status"),
        ({"title_de": "", "title_en": ""}, "__all__"),
        ({"signed_on": "2021-10-07", "signed_on_precision": "month"}, None),
        ({"slug": "has spaces"}, "slug"),
        ({"topics": ["nope"]}, "topics"),
    ],
)
def test_invalid_writes_are_400_and_change_nothing(api, orgs, overrides, field):
    response = api.post("/api/v1/agreements/", payload(**overrides), format="json")
    if field is None:
        # A month-precise date is stored as the 1st of the month.
        assert response.status_code == 201
        assert response.json()["signed_on"] == "2021-10-01"
        return
    assert response.status_code == 400, response.json()
    errors = response.json()
    assert field in errors or any(field in key for key in errors), errors
    assert not Agreement.objects.exists()


def test_duplicate_slug_is_a_400(api, orgs):
    AgreementFactory(slug="taken")
    response = api.post("/api/v1/agreements/", payload(slug="taken"), format="json")
    assert response.status_code == 400
    assert "slug" in response.json()


def test_read_only_fields_cannot_be_set(api, orgs):
    response = api.post(
        "/api/v1/agreements/",
        payload(id=999, published_at="2000-01-01T00:00:00Z", created_at="2000-01-01T00:00:00Z"),
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["id"] != 999 and not body["published_at"].startswith("2000")


def test_patch_replaces_parties_and_a_failed_patch_keeps_them(api, orgs):
    api.post("/api/v1/agreements/", payload(), format="json")
    third = OrganisationFactory(slug="soda")
    response = api.patch(
        "/api/v1/agreements/new-agreement/",
        {"parties": [{"organisation": "amz"}, {"organisation": "soda"}]},
        format="json",
    )
    assert response.status_code == 200
    agreement = Agreement.objects.get(slug="new-agreement")
    assert {p.organisation.slug for p in agreement.parties.all()} == {"amz", "soda"}
    response = api.patch("/api/v1/agreements/new-agreement/", {"parties": [{"organisation": "amz"}]}, format="json")
    assert response.status_code == 400
    assert {p.organisation for p in agreement.parties.all()} == {orgs[0], third}


def test_delete_a_party_organisation_is_refused(api, orgs):
    AgreementFactory(parties=list(orgs))
    response = api.delete("/api/v1/organisations/amz/")
    assert response.status_code == 409
    assert response.json()["referred_to_by"]
    assert Organisation.objects.filter(slug="amz").exists()


def test_organisation_write_validates(api):
    response = api.post(
        "/api/v1/organisations/", {"slug": "x", "name": "X", "kind": "club", "country": "DE"}, format="json"
    )
    assert response.status_code == 400 and "kind" in response.json()
    response = api.post(
        "/api/v1/organisations/", {"slug": "x", "name": "X", "kind": "cluster", "country": "ZZ"}, format="json"
    )
    assert response.status_code == 400 and "country" in response.json()
    response = api.post(
        "/api/v1/organisations/", {"slug": "x", "name": "X", "kind": "cluster", "country": "DE"}, format="json"
    )
    assert response.status_code == 201 and response.json()["country"] == "DE"


def test_malformed_json_is_a_400(api):
    response = api.generic("POST", "/api/v1/agreements/", "{not json", content_type="application/json")
    assert response.status_code == 400


def test_nul_characters_never_reach_the_database(api, orgs):
    # PostgreSQL cannot compare text with NUL: these must be clean 400/404 answers.
    response = api.post(
        "/api/v1/agreements/", payload(parties=[{"organisation": "amz"}, {"organisation": "x\x00"}]), format="json"
    )
    assert response.status_code == 400 and "parties" in response.json()
    response = api.post("/api/v1/agreements/", payload(topics=["a\x00"]), format="json")
    assert response.status_code == 400 and "topics" in response.json()
    assert api.get("/api/v1/agreements/a%00b/").status_code == 404
    assert not Agreement.objects.exists()


# --------------------------------------------------------------------------
# Lost updates: If-Match


@pytest.mark.parametrize(
    ("path", "factory", "field"),
    [
        ("/api/v1/agreements/{slug}/", lambda: AgreementFactory(slug="x", signed=True), "title_en"),
        ("/api/v1/organisations/{slug}/", lambda: OrganisationFactory(slug="x"), "name"),
        ("/api/v1/topics/{slug}/", lambda: TopicFactory(slug="x"), "name_en"),
    ],
)
def test_a_write_with_a_stale_if_match_is_refused(api, editor, path, factory, field):
    record = factory()
    url = path.format(slug=record.slug)
    etag = api.get(url)["ETag"]
    assert api.patch(url, {field: "First"}, format="json", HTTP_IF_MATCH=etag).status_code == 200
    # Another caller's write went in meanwhile: the old tag no longer matches.
    response = api.patch(url, {field: "Second"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 412
    assert "changed meanwhile by editor" in response.json()["detail"]
    record.refresh_from_db()
    assert getattr(record, field) == "First"
    assert api.delete(url, HTTP_IF_MATCH=etag).status_code == 412
    assert type(record).objects.filter(pk=record.pk).exists()
    fresh = api.get(url)["ETag"]
    assert api.patch(url, {field: "Third"}, format="json", HTTP_IF_MATCH=fresh).status_code == 200
    assert api.patch(url, {field: "Fourth"}, format="json", HTTP_IF_MATCH="*").status_code == 200
    assert api.patch(url, {field: "Fifth"}, format="json").status_code == 200  # If-Match is optional
