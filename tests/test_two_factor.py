"""Optional second factor (TOTP) for staff, which registry administrators can
require by adding a user to the "second factor required" group."""

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from .factories import AgreementFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def forget_failures(device):
    """django-otp slows guessing down (1 s, 2 s, 4 s … after each wrong code); tests don't wait."""
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)


def code_for(device, offset=0):
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift) + offset:06d}"[-6:]


def login(client, username, otp_token=""):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": PASSWORD, "otp_token": otp_token},
        HTTP_ACCEPT_LANGUAGE="en",
    )


@pytest.fixture
def staff():
    return UserFactory(username="staff", is_staff=True, is_superuser=True, password=PASSWORD)


def test_without_a_device_the_password_is_enough(staff):
    client = Client()
    assert login(client, "staff").status_code == 302
    assert client.get("/admin/").status_code == 200


def test_with_a_device_the_code_is_needed(staff):
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    client = Client()
    response = login(client, "staff")
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    response = login(client, "staff", code_for(device, offset=1))
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    # Right after a wrong code even the right one waits (throttling) ...
    assert login(client, "staff", code_for(device)).status_code == 200
    forget_failures(device)
    response = login(client, "staff", code_for(device))
    assert response.status_code == 302, response.context["form"].errors
    assert client.get("/admin/").status_code == 200


def test_a_required_second_factor_must_be_set_up_before_anything_else(staff):
    staff.groups.add(Group.objects.get(name="second factor required"))
    AgreementFactory(slug="draft", title_en="Secret draft")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = login(client, "staff")
    assert response.status_code == 302  # the password was right ...
    # ... but nothing of the staff site or the staff view of the API opens yet.
    response = client.get("/admin/agreements/agreement/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    response = client.get("/admin/login/")
    assert response.status_code == 302 and response["Location"] == "/admin/two-factor/"
    assert client.get("/api/v1/agreements/draft/").status_code == 404
    assert client.post("/api/v1/topics/", {"slug": "x", "name_en": "X"}).status_code in (401, 403)

    page = client.get("/admin/two-factor/")
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    secret = re.search(r"<code>([A-Z2-7]+)</code>", page.content.decode()).group(1)
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    assert secret  # the key is shown for entry by hand
    response = client.post("/admin/two-factor/", {"token": code_for(device, offset=1)})
    assert response.status_code == 200 and "This code is not right" in response.content.decode()
    forget_failures(device)
    response = client.post("/admin/two-factor/", {"token": code_for(device)})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/agreements/agreement/").status_code == 200
    assert client.get("/api/v1/agreements/draft/").status_code == 200

    # From now on the login asks for the code.
    client.logout()
    other = Client()
    assert login(other, "staff").status_code == 200
    assert "_auth_user_id" not in other.session


def test_the_setup_page_is_only_for_logged_in_staff():
    assert Client().get("/admin/two-factor/").status_code == 302
    client = Client()
    client.force_login(UserFactory(username="member-of-public"))
    response = client.get("/admin/two-factor/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
