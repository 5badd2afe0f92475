"""Token lifecycle: create (command, admin, service), use, expire, revoke; hashed at rest."""

import datetime
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from agreements.models import ApiToken
from agreements.services import token_create, token_revoke

from ..factories import AgreementFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def get(key, path="/api/v1/agreements/", keyword="Token"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {key}")
    return client.get(path)


def test_command_prints_the_key_once_and_stores_only_its_hash():
    organisation = OrganisationFactory(slug="amz")
    out = StringIO()
    call_command(
        "create_api_token", "--organisation", "amz", "--name", "Partner portal", "--expires-in-days", "30", stdout=out
    )
    key = out.getvalue().strip().splitlines()[-1]
    assert re.fullmatch(r"car_[A-Za-z0-9_-]{43}", key)
    token = ApiToken.objects.get()
    assert token.organisation == organisation and token.name == "Partner portal"
    assert token.key_hash != key and key not in token.key_hash
    assert abs(token.expires_at - (timezone.now() + datetime.timedelta(days=30))) < datetime.timedelta(minutes=1)
    # The raw key is nowhere in the database.
    with connection.cursor() as cursor:
        for table in ("agreements_apitoken", "agreements_historicalapitoken"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            assert not any(key in str(value) for row in cursor.fetchall() for value in row)
    assert get(key).status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--organisation", "nope", "--name", "x"], "No organisation with the slug 'nope'"),
        (["--user", "nobody", "--name", "x"], "No user 'nobody'"),
        (["--organisation", "amz", "--name", "x", "--expires-in-days", "0"], "at least one day"),
    ],
)
def test_command_refuses_bad_input(args, message):
    OrganisationFactory(slug="amz")
    with pytest.raises(CommandError, match=message):
        call_command("create_api_token", *args, stdout=StringIO())
    assert not ApiToken.objects.exists()


def test_staff_token_for_an_active_staff_user_only():
    UserFactory(username="plain")
    with pytest.raises(CommandError, match="Only active staff users"):
        call_command("create_api_token", "--user", "plain", "--name", "x", stdout=StringIO())
    staff = UserFactory(username="staffer", is_staff=True)
    _, key = token_create(name="sync", user=staff)
    assert get(key, "/api/v1/agreements/").status_code == 200


def test_both_keywords_are_accepted_and_last_use_is_recorded():
    token, key = token_create(name="t", organisation=OrganisationFactory())
    assert token.last_used_at is None
    assert get(key, keyword="Bearer").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Token car_unknown", "Invalid token."),
        ("Token", "Invalid Authorization header"),
        ("Token a b", "Invalid Authorization header"),
    ],
)
def test_bad_keys_get_401(header, detail):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/agreements/")
    assert response.status_code == 401
    assert detail in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Token")


def test_expired_token_gets_401_with_a_clear_message():
    token, key = token_create(name="t", organisation=OrganisationFactory(), expires_in_days=1)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = APIClient(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/agreements/")
    assert response.status_code == 401
    assert response.json()["detail"] == "This token has expired."


def test_revoked_token_gets_401_and_revocation_is_in_history(admin_user):
    organisation = OrganisationFactory()
    hidden = AgreementFactory(parties=[organisation, OrganisationFactory()])
    token, key = token_create(name="t", organisation=organisation)
    assert get(key, f"/api/v1/agreements/{hidden.slug}/").status_code == 200
    token_revoke(token=token, revoked_by=admin_user)
    response = APIClient(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/agreements/")
    assert response.status_code == 401
    assert response.json()["detail"] == "This token has been revoked."
    assert token.history.first().history_user == admin_user


def test_admin_creates_a_token_and_shows_the_key_once(admin_client):
    organisation = OrganisationFactory()
    response = admin_client.post(
        "/admin/agreements/apitoken/add/",
        {
            "name": "Portal",
            "organisation": organisation.pk,
            "user": "",
            "expires_at_0": "",
            "expires_at_1": "",
        },
    )
    assert response.status_code == 200
    key = re.search(r'value="(car_[^"]+)"', response.content.decode()).group(1)
    assert get(key).status_code == 200
    token = ApiToken.objects.get()
    page = admin_client.get(f"/admin/agreements/apitoken/{token.pk}/change/").content.decode()
    assert key not in page and token.prefix in page


def test_admin_refuses_a_token_with_two_owners_or_a_past_expiry(admin_client, admin_user):
    organisation = OrganisationFactory()
    response = admin_client.post(
        "/admin/agreements/apitoken/add/",
        {
            "name": "Both",
            "organisation": organisation.pk,
            "user": admin_user.pk,
            "expires_at_0": "2000-01-01",
            "expires_at_1": "00:00:00",
        },
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "errornote" in content
    assert not ApiToken.objects.exists()


def test_admin_revoke_action(admin_client):
    token, key = token_create(name="t", organisation=OrganisationFactory())
    admin_client.post("/admin/agreements/apitoken/", {"action": "revoke_tokens", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.is_revoked
    assert get(key).status_code == 401
