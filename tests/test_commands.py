import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def ensure_admin(*args) -> str:
    out = StringIO()
    call_command("ensure_registry_admin", *args, stdout=out)
    return out.getvalue()


def test_generates_a_password_printed_once(monkeypatch, client):
    monkeypatch.delenv("REGISTRY_ADMIN_PASSWORD", raising=False)
    output = ensure_admin()
    password = re.search(r"password (\S+)  \(shown only this once\)", output).group(1)
    assert len(password) >= 12
    user = get_user_model().objects.get(username="admin")
    assert user.is_staff and user.is_superuser and user.check_password(password)

    again = ensure_admin()
    assert password not in again and "password unchanged" in again
    # Through the login form, as a person would (the login protection needs the request).
    response = client.post("/admin/login/?next=/admin/", {"username": "admin", "password": password})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_generated_passwords_differ(monkeypatch):
    monkeypatch.delenv("REGISTRY_ADMIN_PASSWORD", raising=False)
    first = re.search(r"password (\S+)", ensure_admin("--username", "one")).group(1)
    second = re.search(r"password (\S+)", ensure_admin("--username", "two")).group(1)
    assert first != second


def test_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("REGISTRY_ADMIN_PASSWORD", "from-the-environment-42")
    output = ensure_admin("--username", "staff")
    assert "from-the-environment-42" not in output
    assert get_user_model().objects.get(username="staff").check_password("from-the-environment-42")
    monkeypatch.setenv("REGISTRY_ADMIN_PASSWORD", "rotated-password-43")
    ensure_admin("--username", "staff")
    assert get_user_model().objects.get(username="staff").check_password("rotated-password-43")


def test_rejects_a_bad_username(monkeypatch):
    monkeypatch.delenv("REGISTRY_ADMIN_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="Cannot create user"):
        ensure_admin("--username", "no spaces allowed!")
    assert not get_user_model().objects.exists()
