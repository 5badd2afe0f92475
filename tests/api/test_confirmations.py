"""Partner confirmation of the record: a party's token confirms the SHA-256 of
the agreement's canonical form; a later change of that content shows as
"changed since confirmation" until confirmed again."""

import hashlib
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from rest_framework.test import APIClient

from agreements import services
from agreements.models import AgreementConfirmation, AgreementDocument, Change

from ..helpers import ROLES, SEES_HIDDEN_OF_A, logged_in

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def url(agreement, suffix=""):
    return f"/api/v1/agreements/{agreement.slug}/confirmations/{suffix}"


def current_hash(client, agreement) -> str:
    response = client.get(url(agreement))
    assert response.status_code == 200, response.content
    return response.json()["content_hash"]


def confirm(client, agreement, content_hash):
    return client.post(url(agreement), {"content_hash": content_hash}, format="json")


def states(client, agreement) -> dict[str, str]:
    return {p["organisation"]["slug"]: p["state"] for p in client.get(url(agreement)).json()["parties"]}


@pytest.fixture
def partner(cast):
    def client_for(role):
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        client.credentials(HTTP_AUTHORIZATION=f"Token {cast.keys[role]}")
        return client

    return client_for


def test_the_hash_is_the_sha256_of_the_documented_canonical_json(cast, partner):
    data = partner("partner_a").get(url(cast.public_a)).json()
    canonical = data["canonical"]
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert hashlib.sha256(text).hexdigest() == data["content_hash"]
    assert {"title", "kind", "parties", "signed", "signing_event", "valid_from", "valid_until", "documents"} <= set(
        canonical
    )
    # Others see the hash and who confirmed, not the canonical form (it names non-public documents' hashes).
    assert APIClient().get(url(cast.public_a)).json()["canonical"] is None


def test_a_party_confirms_and_the_public_page_shows_the_trust_mark(cast, partner, client):
    a = partner("partner_a")
    response = confirm(a, cast.public_a, current_hash(a, cast.public_a))
    assert response.status_code == 201, response.content
    assert states(a, cast.public_a)["org-a"] == "confirmed"
    assert AgreementConfirmation.objects.filter(agreement=cast.public_a).count() == 1
    # A retry changes nothing.
    assert confirm(a, cast.public_a, current_hash(a, cast.public_a)).status_code == 201
    assert AgreementConfirmation.objects.filter(agreement=cast.public_a).count() == 1
    page = client.get(cast.public_a.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"Confirmed by {cast.org_a.display_name}" in page
    with translation.override("de"):
        german = cast.public_a.get_absolute_url()
    page_de = client.get(german, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Bestätigt von" in page_de


def test_a_change_of_confirmed_content_shows_until_confirmed_again(cast, partner, client):
    a = partner("partner_a")
    first = current_hash(a, cast.public_a)
    confirm(a, cast.public_a, first)
    cast.public_a.title_en = "A new title"
    cast.public_a.save()
    assert states(a, cast.public_a)["org-a"] == "changed_since_confirmation"
    page = client.get(cast.public_a.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"changed since confirmation by {cast.org_a.display_name}" in page
    admin_page = logged_in(cast.users["registry_admin"]).get(f"/admin/agreements/agreement/{cast.public_a.pk}/change/")
    assert "changed since confirmation by" in admin_page.content.decode()
    # The old hash is a 409 naming the current one and what differs from this party's confirmation.
    stale = confirm(a, cast.public_a, first)
    assert stale.status_code == 409
    assert stale.json()["current_hash"] == current_hash(a, cast.public_a)
    assert stale.json()["differs"] == ["title"]
    assert confirm(a, cast.public_a, current_hash(a, cast.public_a)).status_code == 201
    assert states(a, cast.public_a)["org-a"] == "confirmed"


def test_a_new_document_changes_the_content(cast, partner, client):
    a = partner("partner_a")
    before = current_hash(a, cast.public_a)
    AgreementDocument.objects.create(
        agreement=cast.public_a,
        kind="signed_scan",
        title="Signed",
        file=SimpleUploadedFile("signed.pdf", PDF, content_type="application/pdf"),
    )
    assert current_hash(a, cast.public_a) != before
    assert hashlib.sha256(PDF).hexdigest() in a.get(url(cast.public_a)).json()["canonical"]["documents"]


@pytest.mark.parametrize("role", ROLES)
def test_only_a_party_organisations_token_may_confirm(cast, role_clients, role):
    content_hash = services.agreement_content_hash(cast.public_a)
    response = role_clients[role].post(
        url(cast.public_a), json.dumps({"content_hash": content_hash}), content_type="application/json"
    )
    expected = 201 if role == "partner_a" else (401 if role == "anonymous" else 403)
    assert response.status_code == expected, (role, response.content)


@pytest.mark.parametrize("role", ROLES)
def test_a_hidden_agreements_confirmations_are_as_hidden_as_it(cast, role_clients, role):
    response = role_clients[role].get(url(cast.hidden_a))
    assert response.status_code == (200 if role in SEES_HIDDEN_OF_A else 404)


def test_a_party_withdraws_with_a_reason(cast, partner, client):
    a = partner("partner_a")
    confirm(a, cast.public_a, current_hash(a, cast.public_a))
    assert a.post(url(cast.public_a, "withdraw/"), {"reason": ""}, format="json").status_code == 400
    response = a.post(url(cast.public_a, "withdraw/"), {"reason": "Signed a different version"}, format="json")
    assert response.status_code == 200, response.content
    party = next(p for p in response.json()["parties"] if p["organisation"]["slug"] == "org-a")
    assert party["state"] == "withdrawn" and party["withdrawal_reason"] == "Signed a different version"
    page = client.get(cast.public_a.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Signed a different version" in page
    assert partner("partner_b").post(url(cast.public_a, "withdraw/"), {"reason": "x"}, format="json").status_code == 403


def test_a_bad_hash_is_a_400_naming_it(cast, partner):
    response = confirm(partner("partner_a"), cast.public_a, "not-a-hash")
    assert response.status_code == 400
    assert "content_hash" in response.json()


def test_the_feed_carries_a_confirmation(cast, partner):
    a = partner("partner_a")
    after = Change.objects.order_by("-pk").values_list("pk", flat=True).first()
    confirm(a, cast.public_a, current_hash(a, cast.public_a))
    entries = APIClient().get("/api/v1/changes/", {"after": after}).json()["results"]
    assert [(e["slug"], e["kind"]) for e in entries] == [(cast.public_a.slug, "updated")]
