"""Secure defaults: headers, cookies, sessions, our own error pages (in the
visitor's language, never a traceback), bounded request bodies, 503 for an
unreachable database or a cancelled query."""

import json
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import path

from agreements.models import Agreement

from .factories import UserFactory

pytestmark = pytest.mark.django_db


def _boom(request):
    raise RuntimeError("secret detail: SELECT password FROM auth_user")


def _database_down(request):
    raise OperationalError('connection to server at "db" failed: Connection refused')


def _fine(request):
    return HttpResponse("ok")


# A URLconf with views that fail, added in front of the real one.
urlpatterns = [
    path("boom/", _boom),
    path("api/v1/boom/", _boom),
    path("database-down/", _database_down),
    path("api/v1/database-down/", _database_down),
    path("fine/", _fine),
]
handler404 = "registry.views.page_not_found"
handler500 = "registry.views.server_error"


@pytest.fixture
def failing_urls(settings):
    from registry import urls

    settings.ROOT_URLCONF = __name__
    urlpatterns.extend(p for p in urls.urlpatterns if p not in urlpatterns)
    return Client(raise_request_exception=False)


def test_security_headers_on_public_pages_admin_and_api(client):
    for page in ("/", "/admin/login/", "/api/v1/agreements/", "/api/v1/docs/"):
        response = client.get(page, secure=True)
        assert response.status_code == 200, page
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert response["Strict-Transport-Security"].startswith("max-age=31536000")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_login_sets_secure_cookies_and_a_new_session_key(client):
    UserFactory(username="staff", is_staff=True, password="correct horse battery staple")
    client.get("/admin/login/", secure=True)
    client.session["probe"] = "x"  # an anonymous session exists before the login
    client.cookies["sessionid"] = "anonymous-session-key"
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "staff", "password": "correct horse battery staple"},
        secure=True,
    )
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session.value and session.value != "anonymous-session-key"
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    csrf = response.cookies.get("csrftoken") or client.cookies["csrftoken"]
    assert csrf["secure"] and csrf["samesite"] == "Lax"


def logged_in_client():
    user = UserFactory(username="staff", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client, user


def test_an_idle_session_ends(settings):
    client, _user = logged_in_client()
    assert client.get("/admin/").status_code == 200
    session = client.session
    session["registry_session_seen"] = int(time.time()) - settings.SESSION_IDLE_SECONDS - 5
    session.save()
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_a_session_ends_after_its_maximum_age_whatever_the_activity(settings):
    client, user = logged_in_client()
    type(user).objects.filter(pk=user.pk).update(
        last_login=user.last_login - __import__("datetime").timedelta(seconds=settings.SESSION_COOKIE_AGE + 5)
    )
    session = client.session
    session["registry_session_seen"] = int(time.time())  # active just now
    session.save()
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_an_active_session_goes_on():
    client, _user = logged_in_client()
    for _ in range(3):
        assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize(
    ("prefix", "text"),
    [("", "Seite nicht gefunden"), ("/en", "Page not found"), ("/pl", "Nie znaleziono strony")],
)
def test_404_is_our_page_in_the_visitors_language(client, prefix, text):
    response = client.get(prefix + "/agreements/no-such-agreement/")
    assert response.status_code == 404
    page = response.content.decode()
    assert text in page and 'class="site-header"' in page


def test_api_errors_are_json(client):
    response = client.get("/api/v1/no-such-resource/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


def test_500_shows_no_traceback_or_sql(failing_urls):
    for page, content_type in (("/boom/", "text/html"), ("/api/v1/boom/", "application/json")):
        response = failing_urls.get(page)
        assert response.status_code == 500
        assert response["Content-Type"].startswith(content_type)
        body = response.content.decode()
        assert "secret detail" not in body and "SELECT" not in body and "Traceback" not in body


def test_an_unreachable_database_is_a_503_with_retry_after(failing_urls):
    for page, content_type in (("/database-down/", "text/html"), ("/api/v1/database-down/", "application/json")):
        response = failing_urls.get(page, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 503
        assert response["Retry-After"] == "5"
        assert response["Content-Type"].startswith(content_type)
        assert "Connection refused" not in response.content.decode()
    assert failing_urls.get("/fine/").status_code == 200


def test_400_for_a_bad_host_is_our_page(client):
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "Traceback" not in response.content.decode()


def test_csrf_failure_is_our_page():
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/admin/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert "The form could not be verified" in response.content.decode()


@override_settings(REQUEST_BODY_MAX_BYTES=4000, DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_an_oversized_body_is_refused_before_it_is_read(client):
    # JSON and form data are held to the data limit (parsers read them whole) ...
    response = client.generic(
        "POST",
        "/api/v1/agreements/",
        b"x" * 10,
        content_type="application/json",
        CONTENT_LENGTH="2000",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "The request is too large."}
    response = client.generic("POST", "/admin/login/", b"x" * 10, CONTENT_LENGTH="2000")
    assert response.status_code == 413
    # ... an upload to the document limit.
    assert client.post("/admin/login/", {"file": SimpleUploadedFile("a.pdf", b"x" * 2000)}).status_code != 413
    assert client.post("/admin/login/", {"file": SimpleUploadedFile("a.pdf", b"x" * 5000)}).status_code == 413


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_staff_json_body_over_the_data_limit_is_refused_and_writes_nothing(cast, role_clients):
    body = json.dumps({"slug": "big", "title_en": "x" * 2000, "parties": [{"organisation": "org-a"}]})

    response = role_clients["registry_admin"].post("/api/v1/agreements/", body, content_type="application/json")

    assert response.status_code == 413
    assert not Agreement.objects.filter(slug="big").exists()


def test_search_input_length_is_limited(client):
    response = client.get("/api/v1/agreements/", {"q": "x" * 500})
    assert response.status_code == 400
    assert "q" in response.json()


# --------------------------------------------------------------------------
# Staff login protection


def attempt(client, password, address="10.0.0.1", forwarded=None, username="staff"):
    extra = {"REMOTE_ADDR": address, "HTTP_ACCEPT_LANGUAGE": "en"}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password}, **extra)


def test_repeated_failed_logins_lock_the_account_out(caplog):
    UserFactory(username="staff", is_staff=True, password="correct horse battery staple")
    client = Client()
    for _ in range(4):
        assert attempt(client, "wrong").status_code == 200  # the form again, with its error
    response = attempt(client, "wrong")
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert int(response["Retry-After"]) == 15 * 60
    # Now even the right password is refused, from anywhere, whatever X-Forwarded-For says.
    for address, forwarded in (("10.0.0.1", None), ("10.0.0.2", "203.0.113.7"), ("10.0.0.3", "198.51.100.1, 10.9.9.9")):
        response = attempt(client, "correct horse battery staple", address, forwarded)
        assert response.status_code == 429
        assert "_auth_user_id" not in client.session
    log = caplog.text
    assert "correct horse battery staple" not in log and "wrong" not in log.replace("wrong password", "")


def test_rotating_x_forwarded_for_does_not_reset_the_address_count():
    UserFactory(username="victim", is_staff=True, password="correct horse battery staple")
    client = Client()
    # One address tries many user names, each time claiming another forwarded address.
    for index in range(5):
        attempt(client, "guess", "10.1.1.1", f"192.0.2.{index}", username=f"user{index}")
    response = attempt(client, "correct horse battery staple", "10.1.1.1", "192.0.2.99", username="victim")
    assert response.status_code == 429


def test_a_successful_login_resets_the_count_and_others_are_unaffected():
    UserFactory(username="staff", is_staff=True, password="correct horse battery staple")
    UserFactory(username="other", is_staff=True, password="another long password 42")
    client = Client()
    for _ in range(4):
        attempt(client, "wrong")
    assert attempt(client, "correct horse battery staple").status_code == 302
    client.logout()
    for _ in range(4):
        assert attempt(client, "wrong").status_code == 200
    other = Client()
    assert attempt(other, "another long password 42", "10.2.2.2", username="other").status_code == 302


def test_refused_api_access_is_logged_without_the_token(caplog):
    from rest_framework.test import APIClient

    caplog.set_level("INFO", logger="agreements.api")
    key = "car_this-is-not-a-real-key-but-must-not-be-logged"
    response = APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/agreements/")
    assert response.status_code == 401
    response = APIClient().post("/api/v1/topics/", {"slug": "x"}, format="json")
    assert response.status_code in (401, 403)
    assert "API access refused" in caplog.text
    assert key not in caplog.text and "not-a-real-key" not in caplog.text
