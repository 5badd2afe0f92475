"""The API's permission matrix on the shared cast: who sees which record, on
every route, and who may write (anonymous, partner of A, partner of B, editor
of A, editor of B, staff without a role, registry admin, superuser)."""

import json

import pytest

from agreements.models import Agreement

pytestmark = pytest.mark.django_db

CALLERS = ["anonymous", "partner_a", "partner_b", "editor_a", "editor_b", "staff", "registry_admin", "superuser"]
ALL_AGREEMENTS = {"public-a", "hidden-a", "hidden-b"}
# Which agreements each caller sees.
VISIBLE_AGREEMENTS = {
    "anonymous": {"public-a"},
    "partner_a": {"public-a", "hidden-a"},
    "partner_b": {"public-a", "hidden-b"},
    "editor_a": {"public-a", "hidden-a"},
    "editor_b": {"public-a", "hidden-b"},
    "staff": {"public-a"},
    "registry_admin": ALL_AGREEMENTS,
    "superuser": ALL_AGREEMENTS,
}
# Who sees A's non-public people and documents.
INSIDERS_OF_A = {"partner_a", "editor_a", "registry_admin", "superuser"}


def slugs(response):
    assert response.status_code == 200, response.content
    return {row["slug"] for row in response.json()["results"]}


@pytest.mark.parametrize("caller", CALLERS)
def test_agreement_list_and_count(role_clients, caller):
    response = role_clients[caller].get("/api/v1/agreements/")
    assert slugs(response) == VISIBLE_AGREEMENTS[caller]
    assert response.json()["count"] == len(VISIBLE_AGREEMENTS[caller])


@pytest.mark.parametrize("caller", CALLERS)
def test_agreement_detail_is_404_when_hidden(role_clients, caller):
    for slug in ALL_AGREEMENTS:
        status = role_clients[caller].get(f"/api/v1/agreements/{slug}/").status_code
        assert status == (200 if slug in VISIBLE_AGREEMENTS[caller] else 404), (caller, slug)
    missing = role_clients[caller].get("/api/v1/agreements/no-such-agreement/")
    hidden = role_clients["anonymous"].get("/api/v1/agreements/hidden-b/")
    assert missing.status_code == hidden.status_code == 404
    assert missing.json().keys() == hidden.json().keys()


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(
    "query",
    [
        "q=hydrogen",
        "q=confidential",
        "party=org-b",
        "party=org-a",
        "country=PL",
        "country=IS",
        "status=draft",
        "status=signed",
        "kind=cooperation_agreement",
        "ordering=title",
        "signed_after=2000-01-01",
        "year=2021",
        "trip=trip",
        "topic=software",
        "updated_after=2000-01-01T00:00:00Z",
    ],
)
def test_no_filter_reveals_hidden_agreements(role_clients, caller, query):
    found = slugs(role_clients[caller].get(f"/api/v1/agreements/?{query}"))
    assert found <= VISIBLE_AGREEMENTS[caller], (caller, query)


@pytest.mark.parametrize("caller", CALLERS)
def test_nested_fields_hide_people_and_documents(role_clients, caller):
    data = role_clients[caller].get("/api/v1/agreements/public-a/").json()
    signatories = {s["person"]["slug"] for s in data["signatories"]}
    documents = {d["title"] for d in data["documents"]}
    insider = caller in INSIDERS_OF_A
    assert signatories == ({"minister", "private-person"} if insider else {"minister"})
    assert documents == ({"Public scan", "Frobozz internal annex"} if insider else {"Public scan"})


@pytest.mark.parametrize("caller", CALLERS)
def test_signing_event_lists_only_visible_agreements_and_people(role_clients, caller):
    data = role_clients[caller].get("/api/v1/signing-events/event/").json()
    assert {a["slug"] for a in data["agreements"]} == VISIBLE_AGREEMENTS[caller] & {"public-a", "hidden-a"}
    people = {p["slug"] for p in data["people_present"]}
    assert people == ({"minister", "private-person"} if caller in INSIDERS_OF_A else {"minister"})


@pytest.mark.parametrize("caller", CALLERS)
def test_people_are_personal_data(role_clients, caller):
    listed = slugs(role_clients[caller].get("/api/v1/people/?page_size=200"))
    insider = caller in INSIDERS_OF_A
    assert ("private-person" in listed) is insider
    assert role_clients[caller].get("/api/v1/people/private-person/").status_code == (200 if insider else 404)
    assert role_clients[caller].get("/api/v1/people/minister/").status_code == 200


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("resource", ["organisations", "topics", "signing-events", "trips"])
def test_public_resources_are_readable_by_everyone(role_clients, caller, resource):
    response = role_clients[caller].get(f"/api/v1/{resource}/")
    assert response.status_code == 200
    assert response.json()["count"] >= 1


def send(client, method, url, data=None):
    return getattr(client, method)(url, json.dumps(data or {}), content_type="application/json")


# (create with party A, change A's public agreement, delete A's draft)
AGREEMENT_WRITES = {
    "anonymous": (401, 401, 401),
    "partner_a": (403, 403, 403),  # partners read only
    "partner_b": (403, 403, 403),
    "editor_a": (201, 200, 204),
    "editor_b": (400, 403, 404),  # must be a party itself; sees A's public agreement read-only; not A's draft
    "staff": (403, 403, 403),  # no model permission
    "registry_admin": (201, 200, 204),
    "superuser": (201, 200, 204),
}


@pytest.mark.parametrize("caller", CALLERS)
def test_agreement_writes_need_the_permission_and_the_edit_rule(cast, role_clients, caller):
    client = role_clients[caller]
    new = {"slug": f"new-{caller}", "title_en": "New", "status": "draft", "parties": [{"organisation": "org-a"}]}
    create = send(client, "post", "/api/v1/agreements/", new)
    change = send(client, "patch", "/api/v1/agreements/public-a/", {"title_en": "Changed"})
    delete = send(client, "delete", "/api/v1/agreements/hidden-a/")

    assert (create.status_code, change.status_code, delete.status_code) == AGREEMENT_WRITES[caller]
    if AGREEMENT_WRITES[caller][1] != 200:
        assert Agreement.objects.get(slug="public-a").title_en == cast.public_a.title_en
        assert not Agreement.objects.filter(slug=f"new-{caller}").exists()


# (rename organisation A, add a topic, rename a person)
OTHER_WRITES = {
    "anonymous": (401, 401, 401),
    "partner_a": (403, 403, 403),
    "partner_b": (403, 403, 403),
    "editor_a": (200, 403, 403),  # its own organisation's profile only
    "editor_b": (403, 403, 403),
    "staff": (403, 403, 403),
    "registry_admin": (200, 201, 200),
    "superuser": (200, 201, 200),
}


@pytest.mark.parametrize("caller", CALLERS)
def test_other_writes_need_the_permission_and_the_edit_rule(role_clients, caller):
    client = role_clients[caller]
    organisation = send(client, "patch", "/api/v1/organisations/org-a/", {"name": "Renamed"})
    topic = send(client, "post", "/api/v1/topics/", {"slug": "t", "name_en": "T"})
    person = send(client, "patch", "/api/v1/people/minister/", {"name": "Renamed"})

    assert (organisation.status_code, topic.status_code, person.status_code) == OTHER_WRITES[caller]


@pytest.mark.parametrize("resource", ["signing-events/event", "trips"])
def test_read_only_routes_answer_405(role_clients, resource):
    method = "patch" if "/" in resource else "post"
    assert send(role_clients["superuser"], method, f"/api/v1/{resource}/").status_code == 405
    # Without the model permission the answer is 403 first, as for every write.
    assert send(role_clients["staff"], method, f"/api/v1/{resource}/").status_code == 403
