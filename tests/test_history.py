"""Nothing is lost: every path that changes data records who, when and what
(admin forms and actions are covered in test_admin, imports in
test_import_export, lifecycle steps in test_lifecycle)."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from agreements.models import Agreement, AgreementParty, ApiToken

from .factories import AgreementFactory, OrganisationFactory, TopicFactory
from .helpers import WRITE_PERMS, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor():
    return staff_user("writer", perms=WRITE_PERMS, group="registry admin")


@pytest.fixture
def api(editor):
    client = APIClient()
    client.force_authenticate(editor)
    return client


def test_api_writes_record_the_user_for_the_agreement_and_its_parts(api, editor):
    a, b, c = OrganisationFactory(slug="a"), OrganisationFactory(slug="b"), OrganisationFactory(slug="c")
    TopicFactory(slug="t")
    agreement = AgreementFactory(slug="x", parties=[a, b])
    response = api.patch(
        "/api/v1/agreements/x/",
        {"title_en": "Renamed", "topics": ["t"], "parties": [{"organisation": "a"}, {"organisation": "c"}]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    latest = agreement.history.first()
    assert (latest.title_en, latest.history_user, latest.history_type) == ("Renamed", editor, "~")
    removed = AgreementParty.history.filter(organisation=b, history_type="-").get()
    added = AgreementParty.history.filter(organisation=c, history_type="+").get()
    assert removed.history_user == editor and added.history_user == editor
    assert [t.topic.slug for t in latest.topics.all()] == ["t"]
    assert api.delete("/api/v1/agreements/x/").status_code == 204
    deleted = Agreement.history.filter(id=agreement.pk, history_type="-").get()
    assert deleted.history_user == editor and deleted.title_en == "Renamed"


def test_a_token_made_in_the_admin_is_recorded_with_its_expiry(admin_client, admin_user):
    expires = (timezone.now() + datetime.timedelta(days=10)).replace(microsecond=0)
    response = admin_client.post(
        "/admin/agreements/apitoken/add/",
        {
            "name": "Portal",
            "organisation": OrganisationFactory().pk,
            "user": "",
            "expires_at_0": timezone.localtime(expires).strftime("%Y-%m-%d"),
            "expires_at_1": timezone.localtime(expires).strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 200  # the page that shows the key once
    token = ApiToken.objects.get(name="Portal")
    assert token.expires_at == expires
    [record] = token.history.all()
    assert record.history_user == admin_user and record.expires_at == expires
