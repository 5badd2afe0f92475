"""The permission matrix: who sees which record, on every route, and who may write."""

import pytest

pytestmark = pytest.mark.django_db

CALLERS = ["anonymous", "partner_a", "partner_b", "staff", "staff_perm", "superuser"]

# Which agreements each caller sees.
VISIBLE_AGREEMENTS = {
    "anonymous": {"public"},
    "partner_a": {"public", "draft-a"},
    "partner_b": {"public", "hidden-b"},
    "staff": {"public"},
    "staff_perm": {"public", "draft-a", "hidden-b"},
    "superuser": {"public", "draft-a", "hidden-b"},
}
ALL_AGREEMENTS = {"public", "draft-a", "hidden-b"}


def slugs(response):
    assert response.status_code == 200, response.content
    return {row["slug"] for row in response.json()["results"]}


@pytest.mark.parametrize("caller", CALLERS)
def test_agreement_list_and_count(clients, caller):
    response = clients[caller].get("/api/v1/agreements/")
    assert slugs(response) == VISIBLE_AGREEMENTS[caller]
    assert response.json()["count"] == len(VISIBLE_AGREEMENTS[caller])


@pytest.mark.parametrize("caller", CALLERS)
def test_agreement_detail_is_404_when_hidden(clients, caller):
    for slug in ALL_AGREEMENTS:
        status = clients[caller].get(f"/api/v1/agreements/{slug}/").status_code
        assert status == (200 if slug in VISIBLE_AGREEMENTS[caller] else 404), (caller, slug)
    missing = clients[caller].get("/api/v1/agreements/no-such-agreement/")
    hidden = clients["anonymous"].get("/api/v1/agreements/hidden-b/")
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
        "status=draft",
        "status=signed",
        "kind=cooperation_agreement",
        "ordering=title",
        "signed_after=2000-01-01",
        "year=2021",
        "trip=",
        "updated_after=2000-01-01T00:00:00Z",
    ],
)
def test_no_filter_reveals_hidden_agreements(clients, caller, query):
    found = slugs(clients[caller].get(f"/api/v1/agreements/?{query}"))
    assert found <= VISIBLE_AGREEMENTS[caller], (caller, query)


@pytest.mark.parametrize("caller", CALLERS)
def test_nested_fields_hide_people_and_documents(clients, caller):
    data = clients[caller].get("/api/v1/agreements/public/").json()
    signatories = {s["person"]["slug"] for s in data["signatories"]}
    documents = {d["title"] for d in data["documents"]}
    insider = caller in {"partner_a", "staff_perm", "superuser"}
    sees_people = caller in {"staff_perm", "superuser"}
    assert signatories == ({"minister", "private-person"} if sees_people else {"minister"})
    assert documents == ({"Public scan", "Internal annex"} if insider else {"Public scan"})


@pytest.mark.parametrize("caller", CALLERS)
def test_signing_event_lists_only_visible_agreements_and_people(clients, caller):
    data = clients[caller].get("/api/v1/signing-events/event/").json()
    assert {a["slug"] for a in data["agreements"]} == VISIBLE_AGREEMENTS[caller] & {"public", "draft-a"}
    people = {p["slug"] for p in data["people_present"]}
    assert "private-person" in people if caller in {"staff_perm", "superuser"} else people == {"minister"}


@pytest.mark.parametrize("caller", CALLERS)
def test_people_are_personal_data(clients, caller):
    listed = slugs(clients[caller].get("/api/v1/people/?page_size=200"))
    sees_all = caller in {"staff_perm", "superuser"}
    assert ("private-person" in listed) is sees_all
    assert clients[caller].get("/api/v1/people/private-person/").status_code == (200 if sees_all else 404)
    assert clients[caller].get("/api/v1/people/minister/").status_code == 200


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("resource", ["organisations", "topics", "signing-events", "trips"])
def test_public_resources_are_readable_by_everyone(clients, world, caller, resource):
    response = clients[caller].get(f"/api/v1/{resource}/")
    assert response.status_code == 200
    assert response.json()["count"] >= 1


WRITES = {
    "anonymous": 401,
    "partner_a": 403,
    "partner_b": 403,
    "staff": 403,
    "staff_perm": None,
    "superuser": None,
}


@pytest.mark.parametrize("caller", CALLERS)
def test_agreement_writes_need_the_model_permission(clients, world, caller):
    client = clients[caller]
    create = client.post(
        "/api/v1/agreements/",
        {
            "slug": f"new-{caller}",
            "title_en": "New",
            "status": "draft",
            "parties": [{"organisation": "org-a"}],
        },
        format="json",
    )
    patch = client.patch("/api/v1/agreements/public/", {"title_en": "Changed"}, format="json")
    delete = client.delete("/api/v1/agreements/draft-a/")
    expected = WRITES[caller]
    if expected is None:
        assert (create.status_code, patch.status_code, delete.status_code) == (201, 200, 204)
    else:
        assert {create.status_code, patch.status_code, delete.status_code} == {expected}
        world.public.refresh_from_db()
        assert world.public.title_en == "Open cooperation"


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("resource", ["organisations/org-a", "topics", "people/minister"])
def test_other_writes_need_the_model_permission(clients, world, caller, resource):
    if "/" in resource:
        status = clients[caller].patch(f"/api/v1/{resource}/", {"name": "Renamed"}, format="json").status_code
    else:
        status = clients[caller].post(f"/api/v1/{resource}/", {"slug": "t", "name_en": "T"}, format="json").status_code
    assert status == (WRITES[caller] or (200 if "/" in resource else 201))


@pytest.mark.parametrize("resource", ["signing-events/event", "trips"])
def test_read_only_routes_answer_405(clients, resource):
    method = clients["superuser"].patch if "/" in resource else clients["superuser"].post
    assert method(f"/api/v1/{resource}/", {}, format="json").status_code == 405
    # Without the model permission the answer is 403 first, as for every write.
    method = clients["staff"].patch if "/" in resource else clients["staff"].post
    assert method(f"/api/v1/{resource}/", {}, format="json").status_code == 403
