"""Organisation-scoped roles in the admin and the API: editor of A, editor of B,
registry admin. The same visibility rule decides for all of them."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from rest_framework.test import APIClient

from agreements.models import Agreement, Organisation

from .factories import AgreementFactory, OrganisationFactory, PersonFactory, UserFactory
from .helpers import agreement_form, logged_in, organisation_form, parties, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    org_a = OrganisationFactory(slug="org-a", name="Alpha")
    org_b = OrganisationFactory(slug="org-b", name="Beta")
    other = OrganisationFactory(slug="org-c", name="Gamma")
    return {
        "org_a": org_a,
        "org_b": org_b,
        "public_c": AgreementFactory(
            slug="public-c", signed=True, parties=[other, OrganisationFactory()], title_en="Public of others"
        ),
        "draft_a": AgreementFactory(slug="draft-a", parties=[org_a, other], title_en="Draft of A"),
        "hidden_b": AgreementFactory(
            slug="hidden-b", signed=True, is_public=False, parties=[org_b, other], title_en="Hidden of B"
        ),
    }


@pytest.fixture
def clients(world):
    users = {
        "editor_a": staff_user("editor-a", group="organisation editor", organisations=[world["org_a"]]),
        "editor_b": staff_user("editor-b", group="organisation editor", organisations=[world["org_b"]]),
        "registry_admin": staff_user("registrar", group="registry admin"),
    }
    return {name: logged_in(user) for name, user in users.items()}


SEES = {
    "editor_a": {"public-c", "draft-a"},
    "editor_b": {"public-c", "hidden-b"},
    "registry_admin": {"public-c", "draft-a", "hidden-b"},
}
EDITS = {"editor_a": {"draft-a"}, "editor_b": {"hidden-b"}, "registry_admin": {"public-c", "draft-a", "hidden-b"}}


@pytest.mark.parametrize("role", SEES)
def test_changelist_shows_what_the_role_may_see(clients, role):
    response = clients[role].get("/admin/agreements/agreement/")
    assert response.status_code == 200
    assert {a.slug for a in response.context["cl"].result_list} == SEES[role]


@pytest.mark.parametrize("role", SEES)
def test_change_forms_and_typed_urls(clients, world, role):
    for slug in ("public-c", "draft-a", "hidden-b"):
        agreement = world[slug.replace("-", "_")]
        url = f"/admin/agreements/agreement/{agreement.pk}/change/"
        response = clients[role].get(url)
        if slug not in SEES[role]:
            assert response.status_code in (302, 404), (role, slug)  # "does not exist", never the form
            assert "Hidden of B" not in response.content.decode() and "Draft of A" not in response.content.decode()
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
    assert "Hidden of B" not in found and "Draft of A" in found


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
    assert Organisation.objects.get(slug="org-b").name == "Beta"


def test_people_are_personal_data_in_the_admin_too(clients, world):
    PersonFactory(name="Public Minister", is_public=True, organisation=None)
    own = PersonFactory(name="Alpha Staffer", is_public=False, organisation=world["org_a"])
    other = PersonFactory(name="Beta Staffer", is_public=False, organisation=world["org_b"])
    seen = {
        role: {p.name for p in clients[role].get("/admin/agreements/person/").context["cl"].result_list}
        for role in SEES
    }
    assert seen["editor_a"] == {"Public Minister", "Alpha Staffer"}
    assert seen["editor_b"] == {"Public Minister", "Beta Staffer"}
    assert seen["registry_admin"] == {"Public Minister", "Alpha Staffer", "Beta Staffer"}
    assert clients["editor_a"].get(f"/admin/agreements/person/{other.pk}/change/").status_code == 302
    assert clients["editor_a"].get(f"/admin/agreements/person/{own.pk}/change/").status_code == 200
    params = {"term": "Staffer", "app_label": "agreements", "model_name": "signatory", "field_name": "person"}
    found = {r["text"] for r in clients["editor_a"].get("/admin/autocomplete/", params).json()["results"]}
    assert found == {"Alpha Staffer"}


def test_membership_changes_are_in_the_history(world):

    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    editor = UserFactory(username="new-editor", is_staff=True)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin)

    response = client.post(
        f"/admin/agreements/organisation/{world['org_a'].pk}/change/",
        organisation_form(world["org_a"], members=[editor.pk]),
    )
    assert response.status_code == 302
    latest = world["org_a"].history.first()
    assert latest.history_user == admin
    assert [m.user for m in latest.members.all()] == [editor]
    assert list(world["org_a"].history.last().members.all()) == []


def test_api_follows_the_roles(world):
    editor = staff_user("api-editor", group="organisation editor", organisations=[world["org_a"]])
    api = APIClient()
    api.force_authenticate(editor)
    listed = {a["slug"] for a in api.get("/api/v1/agreements/").json()["results"]}
    assert listed == {"public-c", "draft-a"}
    assert api.get("/api/v1/agreements/hidden-b/").status_code == 404
    assert api.patch("/api/v1/agreements/draft-a/", {"title_en": "Edited"}, format="json").status_code == 200
    assert api.patch("/api/v1/agreements/public-c/", {"title_en": "Hijack"}, format="json").status_code == 403
    response = api.post(
        "/api/v1/agreements/", {"slug": "new", "title_en": "New", "parties": [{"organisation": "org-c"}]}, format="json"
    )
    assert response.status_code == 400 and "parties" in response.json()
    assert api.patch("/api/v1/organisations/org-b/", {"name": "Hijack"}, format="json").status_code == 403
    assert api.patch("/api/v1/organisations/org-a/", {"name": "Alpha 2"}, format="json").status_code == 200


def test_groups_exist_with_their_permissions():
    editors = Group.objects.get(name="organisation editor")
    codenames = set(editors.permissions.values_list("codename", flat=True))
    assert {"change_agreement", "add_agreement", "change_organisation", "view_person"} <= codenames
    assert "add_organisation" not in codenames and "change_person" not in codenames
    admins = Group.objects.get(name="registry admin")
    assert admins.permissions.filter(codename="delete_organisation").exists()
