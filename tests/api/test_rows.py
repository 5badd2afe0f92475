"""The API's agreement answers are built from rows (``agreements.api.rows``);
``AgreementSerializer`` is the contract they must equal, byte for byte, for
every caller and language: lists, deep pages and details."""

import datetime
import json

import pytest
from django.utils import translation
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from agreements.access import Viewer
from agreements.api.serializers import AgreementSerializer
from agreements.choices import AgreementStatus, DatePrecision
from agreements.models import Agreement

from ..factories import (
    AgreementDocumentFactory,
    AgreementFactory,
    AgreementSourceFactory,
    OrganisationFactory,
    PersonFactory,
    SignatoryFactory,
    SigningEventFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def varied(cast):
    """Beside the cast: texts only in the original language (fallback), month
    and year precision, an event without a trip, an expired and a terminated
    agreement, topics and parties out of alphabetical order, sources without a
    date, a document without a language."""
    polish = OrganisationFactory(slug="org-pl", name="Śląski Klaster", short_name="", country="PL")
    zebra, apple = TopicFactory(slug="zebra", name_de="", name_en="", name_pl="Zebra PL"), TopicFactory(slug="apple")
    event = SigningEventFactory(
        slug="lone-event", trip=None, title_de="", title_en="", title_pl="Podpisanie", language="pl", city="Katowice"
    )
    event.date, event.date_precision = datetime.date(2020, 5, 1), DatePrecision.MONTH
    event.save()
    only_polish = AgreementFactory(
        slug="only-polish",
        signed=True,
        signed_on=None,
        signing_event=event,
        language="pl",
        title_de="",
        title_en="",
        title_pl="Porozumienie śląskie",
        summary_de="",
        summary_en="",
        summary_pl="Streszczenie",
        parties=[polish, cast.org_a, cast.org_b],
        topics=[zebra, apple, cast.topic],
        valid_until=datetime.date(2020, 12, 31),
    )
    AgreementSourceFactory(agreement=only_polish, published_on=None, publisher="")
    AgreementSourceFactory(agreement=only_polish, published_on=datetime.date(2020, 5, 2), kind="report")
    AgreementDocumentFactory(agreement=only_polish, is_public=True, language="")
    person = PersonFactory(slug="pl-person", is_public=True, language="pl", position_de="", position_en="")
    person.position_pl = "Prezes"
    person.save()
    SignatoryFactory(agreement=only_polish, person=person, organisation=polish)
    year_only = AgreementFactory(
        slug="year-only", signed=True, signed_on=datetime.date(2019, 1, 1), signed_on_precision=DatePrecision.YEAR
    )
    year_only.status, year_only.terminated_on = AgreementStatus.TERMINATED, datetime.date(2022, 3, 4)
    year_only.termination_reason, year_only.indefinite = "Replaced", True
    year_only.save()
    AgreementFactory(slug="b-draft-of-b", parties=[cast.org_b])
    return cast


def oracle(viewer: Viewer, language: str, slugs: list[str]) -> list[dict]:
    """What the serializer gives for these agreements, rendered to JSON and back."""
    request = Request(APIRequestFactory().get("/api/v1/agreements/"))
    with translation.override(language):
        records = {a.slug: a for a in Agreement.objects.with_related(viewer).filter(slug__in=slugs)}
        data = AgreementSerializer([records[slug] for slug in slugs], many=True, context={"request": request}).data
        return json.loads(json.dumps(data, default=str))


def viewer_for(role: str, cast) -> Viewer:
    if role == "anonymous":
        return Viewer()
    if role.startswith("partner_"):
        organisation = cast.org_a if role == "partner_a" else cast.org_b
        return Viewer(organisation_ids=frozenset({organisation.pk}))
    return Viewer.for_user(cast.users[role])


ROLES = ["anonymous", "partner_a", "partner_b", "editor_a", "registry_admin"]


@pytest.mark.parametrize("language", ["de", "en", "pl"])
@pytest.mark.parametrize("role", ROLES)
def test_list_and_detail_answers_equal_the_serializers(varied, role_clients, role, language):
    client = role_clients[role]
    viewer = viewer_for(role, varied)
    response = client.get("/api/v1/agreements/?page_size=200", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    results = response.json()["results"]
    slugs = [item["slug"] for item in results]
    expected_slugs = list(Agreement.objects.visible_to(viewer).values_list("slug", flat=True))
    assert slugs == expected_slugs
    assert {"public-a", "only-polish", "year-only"} <= set(slugs)
    assert results == oracle(viewer, language, slugs)

    for slug in slugs:
        detail = client.get(f"/api/v1/agreements/{slug}/", HTTP_ACCEPT_LANGUAGE=language)
        assert detail.status_code == 200
        assert detail.json() == oracle(viewer, language, [slug])[0]


def test_rows_keep_what_a_viewer_may_not_see_out(varied, role_clients):
    """The nested people and documents are narrowed by the same rule as before."""
    public = role_clients["anonymous"].get("/api/v1/agreements/public-a/").json()
    partner = role_clients["partner_a"].get("/api/v1/agreements/public-a/").json()
    assert [s["person"]["slug"] for s in public["signatories"]] == ["minister"]
    assert [s["person"]["slug"] for s in partner["signatories"]] == ["minister", "private-person"]
    assert [d["title"] for d in public["documents"]] == ["Public scan"]
    assert sorted(d["title"] for d in partner["documents"]) == ["Frobozz internal annex", "Public scan"]


def test_fallback_and_derived_fields(varied, role_clients):
    answer = role_clients["anonymous"].get("/api/v1/agreements/only-polish/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert answer["title"] == "Porozumienie śląskie"  # the original language, as none in English
    assert answer["expired"] is True
    assert answer["signed_date"] == "2020-05-01"
    assert answer["signed_on_display"] == "May 2020"
    assert answer["signing_event"]["title"] == "Podpisanie"
    assert answer["trip"] is None
    assert [t["slug"] for t in answer["topics"]] == ["apple", "software", "zebra"]
    assert [p["organisation"]["slug"] for p in answer["parties"]] == ["org-pl", "org-a", "org-b"]
    assert answer["web_url"] == "http://testserver/en/agreements/only-polish/"


def test_deep_pages_follow_the_list_order(varied, role_clients):
    client = role_clients["registry_admin"]
    whole = [item["slug"] for item in client.get("/api/v1/agreements/?page_size=200").json()["results"]]
    paged = []
    for page in range(1, len(whole) + 1):
        answer = client.get(f"/api/v1/agreements/?page_size=1&page={page}").json()
        paged += [item["slug"] for item in answer["results"]]
    assert paged == whole
