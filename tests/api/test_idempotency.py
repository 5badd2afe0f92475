"""A committed write is answered as committed, and POSTs are safe to retry
with an Idempotency-Key (the same key and request: the first answer; the
same key with another request: 422)."""

import datetime
from unittest import mock

import pytest
from django.db import OperationalError
from django.utils import timezone
from rest_framework.test import APIClient

from agreements.api import serializers
from agreements.models import Agreement, IdempotencyKey

from ..factories import AgreementFactory, OrganisationFactory
from ..helpers import WRITE_PERMS, staff_user

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


@pytest.fixture
def editor():
    return staff_user("editor", perms=WRITE_PERMS, group="registry admin")


@pytest.fixture
def api(editor):
    OrganisationFactory(slug="amz")
    OrganisationFactory(slug="sa-am")
    return client_for(editor)


def payload(slug="retried", **overrides):
    return {
        "slug": slug,
        "title_en": "Retried agreement",
        "parties": [{"organisation": "amz"}, {"organisation": "sa-am"}],
        **overrides,
    }


def post(api, data, key=None, path="/api/v1/agreements/"):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return api.post(path, data, format="json", **headers)


def test_a_retry_with_the_same_key_gets_the_first_answer_and_writes_nothing_again(api):
    first = post(api, payload(), key="5f0c-retry")
    assert first.status_code == 201, first.content
    again = post(api, payload(), key="5f0c-retry")
    assert again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Agreement.objects.filter(slug="retried").count() == 1


def test_the_same_key_with_another_request_is_422_and_writes_nothing(api):
    assert post(api, payload(), key="k1").status_code == 201
    response = post(api, payload(slug="other"), key="k1")
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()
    assert not Agreement.objects.filter(slug="other").exists()
    # Another path with the same body is another request too.
    assert post(api, payload(), key="k1", path="/api/v1/organisations/").status_code == 422


def test_keys_belong_to_their_user(api):
    assert post(api, payload(), key="shared").status_code == 201
    other = client_for(staff_user("other-editor", perms=WRITE_PERMS, group="registry admin"))
    response = post(other, payload(slug="by-other"), key="shared")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_a_key_that_cannot_be_used_is_a_400_naming_the_header(api, key):
    response = post(api, payload(), key=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not Agreement.objects.exists()


def test_a_refused_write_is_not_remembered(api):
    refused = post(api, payload(parties=[{"organisation": "amz"}, {"organisation": "unknown"}]), key="fix-and-retry")
    assert refused.status_code == 400
    assert not IdempotencyKey.objects.exists()
    assert post(api, payload(), key="fix-and-retry").status_code == 201


def test_a_key_is_forgotten_after_a_day(api):
    assert post(api, payload(), key="old").status_code == 201
    IdempotencyKey.objects.update(created_at=timezone.now() - datetime.timedelta(hours=25))
    response = post(api, payload(slug="next-day"), key="old")
    assert response.status_code == 201
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_answer_that_cannot_be_read_rolls_the_create_back():
    """Before: the create committed, then reading the answer failed (503 "try
    again"), and the retry was refused with "slug already exists". Without a
    wrapping test transaction: the 503 handler closes a connection left in a
    transaction, as it must after a real database error. (A superuser: an
    earlier transactional test may have flushed the groups the migrations made.)"""
    OrganisationFactory(slug="amz")
    OrganisationFactory(slug="sa-am")
    api = client_for(staff_user("root-editor", superuser=True))
    api.raise_request_exception = False
    read = serializers.AgreementSerializer.to_representation
    with mock.patch.object(
        serializers.AgreementSerializer, "to_representation", side_effect=OperationalError("lock timeout")
    ):
        failed = post(api, payload())
    assert failed.status_code == 503
    assert not Agreement.objects.filter(slug="retried").exists()
    assert serializers.AgreementSerializer.to_representation is read
    retry = post(api, payload())
    assert retry.status_code == 201, retry.content
    assert Agreement.objects.filter(slug="retried").count() == 1


def test_a_lifecycle_step_is_safe_to_retry(api):
    AgreementFactory(signed=True, slug="signed-one")
    first = post(api, {"slug": "renewal"}, key="renew-1", path="/api/v1/agreements/signed-one/renew/")
    assert first.status_code == 201, first.content
    again = post(api, {"slug": "renewal"}, key="renew-1", path="/api/v1/agreements/signed-one/renew/")
    assert (again.status_code, again.content) == (201, first.content)
    assert again["Idempotent-Replayed"] == "true"
    assert Agreement.objects.filter(slug="renewal").count() == 1


def test_the_schema_documents_the_header_and_the_422(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    create = schema["paths"]["/api/v1/agreements/"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in create["parameters"])
    assert "422" in create["responses"]
    renew = schema["paths"]["/api/v1/agreements/{slug}/renew/"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in renew["parameters"])
