"""Attacks on what the registry keeps hidden: every filter and ordering probed
with values only hidden records match, mass assignment, stored XSS in every
reader-facing text, CSRF on admin forms, open redirects.
(Private document URLs per role: tests/test_documents.py.)"""

import datetime

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from agreements.filtersets import (
    AgreementFilterSet,
    DelegationTripFilterSet,
    OrganisationFilterSet,
    PersonFilterSet,
    SigningEventFilterSet,
    TopicFilterSet,
)
from agreements.models import Agreement, Organisation
from agreements.services import token_create

from .factories import (
    AgreementFactory,
    AgreementSourceFactory,
    DelegationTripFactory,
    OrganisationFactory,
    PersonFactory,
    ProgrammeItemFactory,
    SignatoryFactory,
    SigningEventFactory,
    TopicFactory,
)
from .helpers import WRITE_PERMS, staff_user

pytestmark = pytest.mark.django_db

SECRET = "Zebrafinch"  # a word that appears only in hidden records


@pytest.fixture
def hidden_world():
    org_a = OrganisationFactory(slug="org-a", country="DE")
    org_b = OrganisationFactory(slug="org-b", country="DE")
    secret_org = OrganisationFactory(slug="secret-org", country="LU")  # a party only to hidden agreements
    secret_topic = TopicFactory(slug="secret-topic")
    secret_trip = DelegationTripFactory(slug="secret-trip", destination_country="LU")
    secret_event = SigningEventFactory(slug="secret-event", trip=secret_trip, country="LU")
    AgreementFactory(slug="public", signed=True, parties=[org_a, org_b], kind="cooperation_agreement")
    hidden = [
        AgreementFactory(
            slug="hidden-signed",
            status="signed",
            is_public=False,
            kind="letter_of_intent",
            signed_on=datetime.date(1999, 5, 3),
            signing_event=secret_event,
            parties=[org_a, secret_org],
            topics=[secret_topic],
            title_en=f"{SECRET} pact",
            summary_en=f"{SECRET} summary",
        ),
        AgreementFactory(
            slug="hidden-draft",
            kind="letter_of_intent",
            parties=[org_a, secret_org],
            topics=[secret_topic],
            title_en=f"{SECRET} draft",
        ),
    ]
    secret_person = PersonFactory(slug="secret-person", name=f"{SECRET} Person", is_public=False, organisation=org_a)
    SignatoryFactory(agreement=hidden[0], person=secret_person, organisation=org_a)
    return {"org_a": org_a, "org_b": org_b, "hidden": hidden, "secret_person": secret_person}


@pytest.fixture
def outsiders(hidden_world):
    """Callers who must not see the hidden records: the public and partner B."""
    _, key_b = token_create(name="B", organisation=hidden_world["org_b"])
    return {"anonymous": APIClient(), "partner_b": APIClient(HTTP_AUTHORIZATION=f"Token {key_b}")}


SINCE = (timezone.now() - datetime.timedelta(days=1)).isoformat()

# For each filter of each API list: values that only hidden records match.
PROBES = {
    ("agreements", AgreementFilterSet): {
        "status": ["draft", "negotiating"],
        "kind": ["letter_of_intent"],
        "party": ["secret-org"],
        "country": ["LU"],
        "topic": ["secret-topic"],
        "trip": ["secret-trip"],
        "year": ["1999"],
        "signed_after": ["1999-01-01"],  # combined with signed_before below
        "signed_before": ["1999-12-31"],
        "updated_after": [SINCE],  # the public one too: checked by slug, not count
        "q": [SECRET, SECRET.lower(), f"{SECRET} pact"],
        "ordering": ["signed_on", "-signed_on", "title", "-title", "updated_at", "-updated_at"],
    },
    ("people", PersonFilterSet): {
        "organisation": ["org-a"],
        "updated_after": [SINCE],
        "q": [SECRET],
        "ordering": ["name", "-name", "updated_at", "-updated_at"],
    },
    ("organisations", OrganisationFilterSet): {
        "kind": ["cluster"],
        "country": ["LU"],
        "parent": ["org-a"],
        "updated_after": [SINCE],
        "q": [SECRET],
        "ordering": ["name", "-name", "country", "updated_at"],
    },
    ("signing-events", SigningEventFilterSet): {
        "trip": ["secret-trip"],
        "country": ["LU"],
        "date_after": ["1990-01-01"],
        "date_before": ["2100-01-01"],
        "updated_after": [SINCE],
        "q": [SECRET],
        "ordering": ["date", "-date", "title"],
    },
    ("trips", DelegationTripFilterSet): {
        "destination_country": ["LU"],
        "organiser": ["org-a"],
        "started_after": ["1990-01-01"],
        "started_before": ["2100-01-01"],
        "updated_after": [SINCE],
        "q": [SECRET],
        "ordering": ["start_date", "-start_date", "title"],
    },
    ("topics", TopicFilterSet): {"q": [SECRET, "secret"], "ordering": ["slug", "-name"]},
}


def test_every_filter_is_probed():
    for (_resource, filterset), probes in PROBES.items():
        assert set(probes) == set(filterset.base_filters), filterset.__name__


HIDDEN_TEXT = (SECRET, "hidden-signed", "hidden-draft", "secret-person")


@pytest.mark.parametrize("caller", ["anonymous", "partner_b"])
@pytest.mark.parametrize("resource", [resource for resource, _ in PROBES])
def test_filters_and_orderings_never_reveal_hidden_records(outsiders, caller, resource):
    client = outsiders[caller]
    probes = next(p for (r, _), p in PROBES.items() if r == resource)
    for name, values in probes.items():
        for value in values:
            params = {name: value, "page_size": 200}
            if name == "signed_after":
                params["signed_before"] = "1999-12-31"
            response = client.get(f"/api/v1/{resource}/", params)
            assert response.status_code == 200, (resource, name, value, response.content)
            text = response.content.decode()
            for hidden in HIDDEN_TEXT:
                assert hidden not in text, (caller, resource, name, value)
            if resource == "agreements" and name not in {"updated_after", "ordering", "status"}:
                assert response.json()["count"] == 0, (caller, name, value)


@pytest.mark.parametrize("caller", ["anonymous", "partner_b"])
def test_hidden_details_are_404(outsiders, caller):
    client = outsiders[caller]
    for path in ("agreements/hidden-signed/", "agreements/hidden-draft/", "people/secret-person/"):
        response = client.get(f"/api/v1/{path}")
        assert response.status_code == 404
        assert SECRET not in response.content.decode()
    # The nested lists of public records leave the hidden ones out too.
    for path in ("signing-events/secret-event/", "trips/secret-trip/", "organisations/org-a/", "topics/secret-topic/"):
        response = client.get(f"/api/v1/{path}")
        assert response.status_code == 200 and SECRET not in response.content.decode(), path


def test_public_pages_with_hidden_only_filters_show_nothing_hidden(hidden_world):
    client = Client()
    for params in (
        {"party": "secret-org"},
        {"topic": "secret-topic"},
        {"trip": "secret-trip"},
        {"country": "LU"},
        {"kind": "letter_of_intent"},
        {"year": "1999"},
        {"q": SECRET},
    ):
        response = client.get("/en/", params)
        assert response.status_code == 200
        page = response.content.decode()
        for hidden in ("hidden-signed", "hidden-draft", f"{SECRET} pact", f"{SECRET} draft", f"{SECRET} summary"):
            assert hidden not in page, params
    for path in ("/en/agreements/hidden-signed/", "/en/agreements/hidden-draft/"):
        assert client.get(path).status_code == 404
    for path in ("/en/organisations/org-a/", "/en/signing-events/secret-event/", "/en/trips/secret-trip/",
                 "/en/topics/secret-topic/", "/agreements.csv", "/agreements.json", "/feeds/agreements/",
                 "/calendar.ics"):  # fmt: skip
        response = client.get(path)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert response.status_code == 200 and SECRET.encode() not in body, path


# --------------------------------------------------------------------------
# Mass assignment


def test_a_partner_cannot_write_at_all(hidden_world, outsiders):
    _, key_a = token_create(name="A", organisation=hidden_world["org_a"])
    partner_a = APIClient(HTTP_AUTHORIZATION=f"Token {key_a}")
    for client in (partner_a, outsiders["partner_b"]):
        response = client.patch("/api/v1/agreements/hidden-draft/", {"is_public": True}, format="json")
        assert response.status_code in (401, 403, 404)
        response = client.patch("/api/v1/organisations/org-a/", {"name": "Taken over"}, format="json")
        assert response.status_code in (401, 403)
    assert not Agreement.objects.get(slug="hidden-draft").is_public
    assert Organisation.objects.get(slug="org-a").name != "Taken over"


def test_staff_cannot_set_read_only_fields(hidden_world):
    client = APIClient()
    client.force_authenticate(staff_user("writer", perms=WRITE_PERMS, group="registry admin"))
    agreement = Agreement.objects.get(slug="public")
    before = Agreement.objects.values("id", "created_at", "published_at").get(pk=agreement.pk)
    forged = {
        "id": 999_999,
        "created_at": "2000-01-01T00:00:00Z",
        "updated_at": "2000-01-01T00:00:00Z",
        "published_at": "2000-01-01T00:00:00Z",
        "search_vector": "x",
        "expired": True,
        "web_url": "https://evil.example/",
        "title_en": "Legitimate change",
    }
    response = client.patch("/api/v1/agreements/public/", forged, format="json")
    assert response.status_code == 200, response.json()
    after = Agreement.objects.values("id", "created_at", "published_at", "updated_at", "title_en").get(pk=agreement.pk)
    assert {k: after[k] for k in before} == before
    assert after["updated_at"].year != 2000 and after["title_en"] == "Legitimate change"
    assert not Agreement.objects.filter(pk=999_999).exists()


# --------------------------------------------------------------------------
# Stored XSS

PAYLOAD = '<script>alert("x")</script>"\'><img src=x onerror=alert(1)>'


def test_stored_markup_is_escaped_on_every_public_page():
    organisation = OrganisationFactory(
        slug="xss-org", name=PAYLOAD, short_name=PAYLOAD[:50], description_en=PAYLOAD, city=PAYLOAD, region=PAYLOAD
    )
    other = OrganisationFactory(slug="xss-other")
    topic = TopicFactory(slug="xss-topic", name_en=PAYLOAD, description_en=PAYLOAD)
    leader = PersonFactory(slug="xss-leader", name=PAYLOAD, position_en=PAYLOAD, is_public=True)
    trip = DelegationTripFactory(slug="xss-trip", title_en=PAYLOAD, purpose_en=PAYLOAD, leader=leader)
    event = SigningEventFactory(slug="xss-event", title_en=PAYLOAD, venue=PAYLOAD, city=PAYLOAD, trip=trip)
    ProgrammeItemFactory(trip=trip, title_en=PAYLOAD, description_en=PAYLOAD, venue=PAYLOAD, city=PAYLOAD)
    agreement = AgreementFactory(
        slug="xss-agreement",
        signed=True,
        parties=[organisation, other],
        topics=[topic],
        signing_event=event,
        title_en=PAYLOAD,
        summary_en=PAYLOAD,
        objectives_en=PAYLOAD,
    )
    SignatoryFactory(agreement=agreement, person=leader, organisation=organisation)
    AgreementSourceFactory(agreement=agreement, title=PAYLOAD, publisher=PAYLOAD)
    client = Client()
    pages = [
        "/en/",
        "/en/?q=alert",
        "/en/agreements/xss-agreement/",
        "/en/organisations/",
        "/en/organisations/xss-org/",
        "/en/organisations/xss-other/",
        "/en/trips/",
        "/en/trips/xss-trip/",
        "/en/signing-events/xss-event/",
        "/en/topics/",
        "/en/topics/xss-topic/",
        "/feeds/agreements/",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.content.decode()
        assert "<script>alert" not in page and "<img src=x" not in page, path
        assert PAYLOAD not in page, path
    # The payload is shown as text (escaped), not dropped.
    assert "&lt;script&gt;alert" in client.get("/en/agreements/xss-agreement/").content.decode()


# --------------------------------------------------------------------------
# CSRF and open redirects


def test_admin_forms_need_the_csrf_token(hidden_world):
    user = staff_user("root", superuser=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    organisation = hidden_world["org_a"]
    response = client.post(f"/admin/agreements/organisation/{organisation.pk}/change/", {"name": "Changed"})
    assert response.status_code == 403
    response = client.post(
        "/admin/agreements/agreement/",
        {"action": "publish", "_selected_action": [a.pk for a in hidden_world["hidden"]]},
    )
    assert response.status_code == 403
    assert Organisation.objects.get(pk=organisation.pk).name != "Changed"
    assert not Agreement.objects.filter(slug__startswith="hidden", is_public=True).exists()


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "https:evil.example", " //evil.example"]
)
def test_login_next_never_leaves_the_site(target):
    user = staff_user("staff", superuser=True)
    user.set_password("correct horse battery staple")
    user.save()
    response = Client().post(
        "/admin/login/", {"username": "staff", "password": "correct horse battery staple", "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_the_language_switcher_has_no_redirect_to_abuse():
    client = Client()
    for path in ("/i18n/setlang/", "/en/i18n/setlang/"):
        response = client.post(path, {"language": "en", "next": "https://evil.example/"})
        assert response.status_code == 404 or "evil.example" not in response.get("Location", "")
    page = client.get("/en/agreements/", {"next": "https://evil.example/"}).content.decode()
    assert 'href="https://evil.example' not in page
