"""Organisation-scoped roles in the admin and the API: editor of A, editor of B,
registry admin. The same visibility rule decides for all of them."""

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from agreements.models import Agreement, Organisation

from .factories import AgreementFactory, OrganisationFactory, PersonFactory, UserFactory
from .helpers import agreement_form, organisation_form, parties, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients(role_clients):
    return {role: role_clients[role] for role in ("editor_a", "editor_b", "registry_admin")}


@pytest.fixture
def world(cast):
    return {
        "org_a": cast.org_a,
        "org_b": cast.org_b,
        "public_a": cast.public_a,
        "hidden_a": cast.hidden_a,
        "hidden_b": cast.hidden_b,
    }


SEES = {
    "editor_a": {"public-a", "hidden-a"},
    "editor_b": {"public-a", "hidden-b"},
    "registry_admin": {"public-a", "hidden-a", "hidden-b"},
}
EDITS = {
    "editor_a": {"public-a", "hidden-a"},
    "editor_b": {"hidden-b"},
    "registry_admin": {"public-a", "hidden-a", "hidden-b"},
}


@pytest.mark.parametrize("role", SEES)
def test_changelist_shows_what_the_role_may_see(clients, role):
    response = clients[role].get("/admin/agreements/agreement/")
    assert response.status_code == 200
    assert {a.slug for a in response.context["cl"].result_list} == SEES[role]


@pytest.mark.parametrize("role", SEES)
def test_change_forms_and_typed_urls(clients, world, role):
    for slug in ("public-a", "hidden-a", "hidden-b"):
        agreement = world[slug.replace("-", "_")]
        url = f"/admin/agreements/agreement/{agreement.pk}/change/"
        response = clients[role].get(url)
        if slug not in SEES[role]:
            assert response.status_code in (302, 404), (role, slug)  # "does not exist", never the form
            hidden = {world["hidden_a"].title_en, world["hidden_b"].title_en} - {world[slug.replace("-", "_")].title_en}
            assert not [title for title in hidden if title in response.content.decode()]
            continue
        assert response.status_code == 200
        editable = 'name="_save"' in response.content.decode()
        assert editable is (slug in EDITS[role]), (role, slug)
        post = clients[role].post(url, {"title_en": "Hijacked"})
        if slug not in EDITS[role]:
            assert post.status_code == 403
        agreement.refresh_from_db()
        assert agreement.title_en != "Hijacked"


@pytest.mark.parametrize("role", SEES)
def test_lifecycle_urls_follow_the_same_rule(clients, world, role):
    agreement = world["hidden_b"]
    response = clients[role].get(f"/admin/agreements/agreement/{agreement.pk}/lifecycle/terminate/")
    assert response.status_code == (200 if "hidden-b" in EDITS[role] else 404 if role == "editor_a" else 200)


def test_autocomplete_leaks_nothing(clients):
    params = {"term": "", "app_label": "agreements", "model_name": "agreement", "field_name": "predecessor"}
    found = {r["text"] for r in clients["editor_a"].get("/admin/autocomplete/", params).json()["results"]}
    assert "Private pact of Beta" not in found and "Xyzzy draft of Alpha" in found


def test_editor_creates_agreements_only_with_an_own_party(clients, world):

    outsider, other = OrganisationFactory(), OrganisationFactory()
    response = clients["editor_a"].post(
        "/admin/agreements/agreement/add/", agreement_form(status="draft", signed_on="", **parties(outsider, other))
    )
    assert response.status_code == 200
    assert "One of your organisations must be a party" in response.content.decode()
    response = clients["editor_a"].post(
        "/admin/agreements/agreement/add/",
        agreement_form(status="draft", signed_on="", **parties(world["org_a"], other)),
    )
    assert response.status_code == 302
    assert Agreement.objects.filter(slug="new-agreement").exists()


def test_editor_edits_only_own_organisation(clients, world):
    own = clients["editor_a"].get(f"/admin/agreements/organisation/{world['org_a'].pk}/change/").content.decode()
    other = clients["editor_a"].get(f"/admin/agreements/organisation/{world['org_b'].pk}/change/").content.decode()
    assert 'name="_save"' in own and 'name="_save"' not in other
    response = clients["editor_a"].post(f"/admin/agreements/organisation/{world['org_b'].pk}/change/", {"name": "X"})
    assert response.status_code == 403
    assert Organisation.objects.get(slug="org-b").name == "Beta Association"


def test_people_are_personal_data_in_the_admin_too(clients, world):
    own = PersonFactory(name="Alpha Staffer", is_public=False, organisation=world["org_a"])
    other = PersonFactory(name="Beta Staffer", is_public=False, organisation=world["org_b"])
    seen = {
        role: {p.name for p in clients[role].get("/admin/agreements/person/").context["cl"].result_list}
        for role in SEES
    }
    everyone = {"Public Minister"} | {p.name for p in PersonFactory._meta.model.objects.filter(is_public=True)}
    assert seen["editor_a"] == everyone | {"Alpha Staffer", "Zorkmid Private"}
    assert seen["editor_b"] == everyone | {"Beta Staffer"}
    assert seen["registry_admin"] == set(PersonFactory._meta.model.objects.values_list("name", flat=True))
    assert clients["editor_a"].get(f"/admin/agreements/person/{other.pk}/change/").status_code == 302
    assert clients["editor_a"].get(f"/admin/agreements/person/{own.pk}/change/").status_code == 200
    params = {"term": "Staffer", "app_label": "agreements", "model_name": "signatory", "field_name": "person"}
    found = {r["text"] for r in clients["editor_a"].get("/admin/autocomplete/", params).json()["results"]}
    assert found == {"Alpha Staffer"}


def test_membership_changes_are_in_the_history(cast, role_clients):
    world = {"org_a": cast.org_a}
    admin, client = cast.users["superuser"], role_clients["superuser"]
    editor = UserFactory(username="new-editor", is_staff=True)

    response = client.post(
        f"/admin/agreements/organisation/{world['org_a'].pk}/change/",
        organisation_form(world["org_a"], members=[cast.users["editor_a"].pk, editor.pk]),
    )
    assert response.status_code == 302
    latest = world["org_a"].history.first()
    assert latest.history_user == admin
    assert {m.user for m in latest.members.all()} == {cast.users["editor_a"], editor}
    assert list(world["org_a"].history.last().members.all()) == []


def test_api_follows_the_roles(world):
    editor = staff_user("api-editor", group="organisation editor", organisations=[world["org_a"]])
    api = APIClient()
    api.force_authenticate(editor)
    listed = {a["slug"] for a in api.get("/api/v1/agreements/").json()["results"]}
    assert listed == {"public-a", "hidden-a"}
    assert api.get("/api/v1/agreements/hidden-b/").status_code == 404
    assert api.patch("/api/v1/agreements/hidden-a/", {"title_en": "Edited"}, format="json").status_code == 200
    other = AgreementFactory(slug="public-c", signed=True, parties=[OrganisationFactory(), OrganisationFactory()])
    assert api.patch(f"/api/v1/agreements/{other.slug}/", {"title_en": "Hijack"}, format="json").status_code == 403
    response = api.post(
        "/api/v1/agreements/", {"slug": "new", "title_en": "New", "parties": [{"organisation": "org-c"}]}, format="json"
    )
    assert response.status_code == 400 and "parties" in response.json()
    assert api.patch("/api/v1/organisations/org-b/", {"name": "Hijack"}, format="json").status_code == 403
    assert api.patch("/api/v1/organisations/org-a/", {"name": "Alpha 2"}, format="json").status_code == 200
    assert Organisation.objects.get(slug="org-b").name == "Beta Association"


def test_groups_exist_with_their_permissions():
    editors = Group.objects.get(name="organisation editor")
    codenames = set(editors.permissions.values_list("codename", flat=True))
    assert {"change_agreement", "add_agreement", "change_organisation", "view_person"} <= codenames
    assert "add_organisation" not in codenames and "change_person" not in codenames
    admins = Group.objects.get(name="registry admin")
    assert admins.permissions.filter(codename="delete_organisation").exists()
