"""The lifecycle in the API: the status of a record changes only through the
steps (the same services, rules and errors as the admin's buttons)."""

import json

import pytest

from agreements.choices import AgreementStatus
from agreements.models import Agreement

pytestmark = pytest.mark.django_db


def post(client, url, data=None, **headers):
    return client.post(url, json.dumps(data or {}), content_type="application/json", **headers)


def patch(client, url, data):
    return client.patch(url, json.dumps(data), content_type="application/json")


@pytest.mark.parametrize("status", ["draft", "negotiating", "terminated"])
def test_a_patch_cannot_move_the_status(cast, role_clients, status):
    response = patch(role_clients["registry_admin"], "/api/v1/agreements/public-a/", {"status": status})

    assert response.status_code == 400
    assert "lifecycle" in response.json()["status"][0]
    assert Agreement.objects.get(slug="public-a").status == AgreementStatus.SIGNED


def test_a_patch_that_keeps_the_status_is_fine(cast, role_clients):
    response = patch(role_clients["editor_a"], "/api/v1/agreements/public-a/", {"status": "signed", "title_en": "New"})

    assert response.status_code == 200, response.json()
    assert Agreement.objects.get(slug="public-a").title_en == "New"


def test_the_steps_of_a_lifecycle(cast, role_clients):
    client, url = role_clients["editor_a"], "/api/v1/agreements/hidden-a/"

    assert post(client, url + "negotiate/").json()["status"] == "negotiating"
    assert post(client, url + "draft/").json()["status"] == "draft"
    signed = post(client, url + "sign/", {"signed_on": "2026-03-17", "precision": "month"})
    assert signed.status_code == 200, signed.json()
    assert (signed.json()["status"], signed.json()["signed_on"]) == ("signed", "2026-03-01")
    ended = post(client, url + "terminate/", {"terminated_on": "2026-11-30", "reason": "Merged"})
    assert ended.json()["status"] == "terminated"
    agreement = Agreement.objects.get(slug="hidden-a")
    assert [h.history_change_reason for h in agreement.history.all()[:4]] == [
        "terminated",
        "signed",
        "back to draft",
        "negotiation started",
    ]
    assert {h.history_user.username for h in agreement.history.all()[:4]} == {"editor-a"}


def test_a_renewal_is_a_new_draft_linked_to_the_agreement(cast, role_clients):
    response = post(role_clients["editor_a"], "/api/v1/agreements/public-a/renew/", {"slug": "public-a-2"})

    assert response.status_code == 201, response.json()
    successor = Agreement.objects.get(slug="public-a-2")
    assert (successor.status, successor.predecessor, successor.succession) == ("draft", cast.public_a, "renews")
    assert set(successor.parties.values_list("organisation__slug", flat=True)) == {"org-a", "org-c"}


@pytest.mark.parametrize(
    ("step", "data", "field"),
    [
        ("sign", {}, "signed_on"),  # neither a date nor an event
        ("sign", {"signed_on": "soon"}, "signed_on"),
        ("terminate", {"terminated_on": "2026-11-30", "reason": "x"}, "status"),  # a draft cannot end
        ("renew", {"slug": "next"}, "status"),  # only a signed agreement is renewed
        ("terminate", {"reason": "x"}, "terminated_on"),
    ],
)
def test_a_step_that_is_not_possible_is_a_400_naming_why(cast, role_clients, step, data, field):
    response = post(role_clients["editor_a"], f"/api/v1/agreements/hidden-a/{step}/", data)

    assert response.status_code == 400
    assert field in response.json()
    assert Agreement.objects.get(slug="hidden-a").status == AgreementStatus.DRAFT
    assert not Agreement.objects.filter(slug="next").exists()


def test_signing_needs_two_parties(cast, role_clients):
    cast.hidden_a.parties.exclude(organisation=cast.org_a).delete()

    response = post(role_clients["editor_a"], "/api/v1/agreements/hidden-a/sign/", {"signed_on": "2026-03-17"})

    assert response.status_code == 400
    assert response.json()["parties"] == ["A signed agreement needs at least two parties."]


@pytest.mark.parametrize(
    ("role", "status"),
    [("anonymous", 401), ("partner_a", 403), ("partner_b", 403), ("editor_b", 404), ("editor_a", 200)],
)
def test_who_may_take_a_step(cast, role_clients, role, status):
    response = post(role_clients[role], "/api/v1/agreements/hidden-a/negotiate/")

    assert response.status_code == status
    expected = AgreementStatus.NEGOTIATING if status == 200 else AgreementStatus.DRAFT
    assert Agreement.objects.get(slug="hidden-a").status == expected


def test_editor_b_cannot_step_a_public_agreement_of_a(cast, role_clients):
    response = post(role_clients["editor_b"], "/api/v1/agreements/public-a/terminate/", {
        "terminated_on": "2026-11-30", "reason": "x"})  # fmt: skip

    assert response.status_code == 403
    assert Agreement.objects.get(slug="public-a").status == AgreementStatus.SIGNED


def test_a_step_with_a_stale_if_match_is_refused(cast, role_clients):
    client, url = role_clients["editor_a"], "/api/v1/agreements/hidden-a/"
    etag = client.get(url)["ETag"]
    patch(client, url, {"title_en": "Changed meanwhile"})

    response = post(client, url + "negotiate/", HTTP_IF_MATCH=etag)

    assert response.status_code == 412
    assert Agreement.objects.get(slug="hidden-a").status == AgreementStatus.DRAFT


def test_the_steps_are_in_the_schema(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    for step in ("negotiate", "draft", "sign", "terminate", "renew", "amend", "supersede"):
        assert "post" in schema["paths"][f"/api/v1/agreements/{{slug}}/{step}/"]
