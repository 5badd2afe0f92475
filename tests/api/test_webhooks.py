"""/api/v1/webhooks/: a partner manages its own organisation's endpoints with
its (otherwise read-only) token; nobody else's (404); registry administrators
manage all of them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/"


@pytest.fixture
def endpoints(cast, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    a = WebhookEndpoint.objects.create(organisation=cast.org_a, url="https://hooks.alpha.example/registry")
    b = WebhookEndpoint.objects.create(organisation=cast.org_b, url="https://hooks.beta.example/registry")
    return {"a": a, "b": b}


# role -> the endpoints it sees (and manages)
SEES = {
    "partner_a": {"a"},
    "partner_b": {"b"},
    "editor_a": {"a"},
    "editor_b": {"b"},
    "registry_admin": {"a", "b"},
    "superuser": {"a", "b"},
}


@pytest.mark.parametrize("role", ["anonymous", "staff", *SEES])
def test_who_sees_which_endpoints(role, role_clients, endpoints):
    client = role_clients[role]
    response = client.get(URL)
    if role == "anonymous":
        assert response.status_code == 401
        return
    if role == "staff":  # staff acting for no organisation
        assert response.status_code == 403
        return
    assert response.status_code == 200
    seen = {item["url"] for item in response.json()["results"]}
    assert seen == {endpoints[name].url for name in SEES[role]}
    for name, endpoint in endpoints.items():
        detail = client.get(f"{URL}{endpoint.pk}/")
        assert detail.status_code == (200 if name in SEES[role] else 404), (role, name)
        if name in SEES[role]:
            assert detail.json()["secret"] == endpoint.secret


def test_the_list_costs_the_same_whatever_its_length(cast, role_clients, endpoints):
    client = role_clients["partner_a"]
    client.get(URL)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured)

    one = queries()
    for number in range(5):
        WebhookEndpoint.objects.create(organisation=cast.org_a, url=f"https://hooks.alpha.example/{number}")
    assert queries() == one
    assert len(client.get(URL).json()["results"]) == 6


def test_a_partner_manages_its_own_endpoints_with_its_token(cast, role_clients, endpoints):
    client = role_clients["partner_a"]
    data = {"url": "https://hooks.alpha.example/new", "kinds": ["created", "deleted"]}
    created = client.post(URL, data, content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["organisation"] == "org-a" and body["secret"].startswith("whsec_") and body["is_active"]
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert endpoint.kinds == ["created", "deleted"]

    changed = client.patch(f"{URL}{endpoint.pk}/", {"description": "Our mirror"}, content_type="application/json")
    assert changed.status_code == 200 and changed.json()["description"] == "Our mirror"
    assert client.delete(f"{URL}{endpoint.pk}/").status_code == 204
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_a_partner_cannot_touch_another_organisations_endpoints(cast, role_clients, endpoints):
    client = role_clients["partner_b"]
    target = f"{URL}{endpoints['a'].pk}/"
    assert client.patch(target, {"url": "https://evil.example/"}, content_type="application/json").status_code == 404
    assert client.put(target, {"url": "https://evil.example/"}, content_type="application/json").status_code == 404
    assert client.delete(target).status_code == 404
    endpoints["a"].refresh_from_db()
    assert endpoints["a"].url == "https://hooks.alpha.example/registry"
    # Nor create one for A, nor move its own to A.
    response = client.post(
        URL, {"url": "https://hooks.beta.example/2", "organisation": "org-a"}, content_type="application/json"
    )
    assert response.status_code == 400 and "organisation" in response.json()
    response = client.patch(f"{URL}{endpoints['b'].pk}/", {"organisation": "org-a"}, content_type="application/json")
    assert response.status_code == 400
    assert WebhookEndpoint.objects.filter(organisation=cast.org_a).count() == 1


def test_a_registry_administrator_names_the_organisation(cast, role_clients, endpoints):
    client = role_clients["registry_admin"]
    response = client.post(URL, {"url": "https://hooks.gamma.example/"}, content_type="application/json")
    assert response.status_code == 400 and "organisation" in response.json()
    response = client.post(
        URL, {"url": "https://hooks.gamma.example/", "organisation": "org-c"}, content_type="application/json"
    )
    assert response.status_code == 201 and response.json()["organisation"] == "org-c"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://hooks.alpha.example/", "https"),
        ("https://127.0.0.1/hook", "may not reach"),
        ("https://10.0.0.7/hook", "may not reach"),
        ("https://169.254.169.254/latest/meta-data/", "may not reach"),
        ("https://[::1]/hook", "may not reach"),
        ("https://user:pw@hooks.alpha.example/", "user name"),
        ("ftp://hooks.alpha.example/", "https"),
        ("not a url", "URL"),
    ],
)
def test_an_unusable_url_is_a_400(role_clients, endpoints, settings, url, problem):
    settings.WEBHOOK_ALLOW_HTTP = False
    response = role_clients["partner_a"].post(URL, {"url": url}, content_type="application/json")
    assert response.status_code == 400
    assert problem in " ".join(response.json()["url"])


def test_enabling_a_disabled_endpoint_forgets_its_failures(role_clients, endpoints):
    endpoint = endpoints["a"]
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False, disabled_reason="Gave up", consecutive_failures=30
    )
    response = role_clients["partner_a"].patch(
        f"{URL}{endpoint.pk}/", {"is_active": True}, content_type="application/json"
    )
    assert response.status_code == 200
    assert (response.json()["disabled_reason"], response.json()["consecutive_failures"]) == ("", 0)


def test_a_read_only_token_still_reads_the_registry_only(cast, role_clients, endpoints):
    """Managing its endpoints gives a partner token no write to the registry's records."""
    response = role_clients["partner_a"].patch(
        f"/api/v1/agreements/{cast.public_a.slug}/", {"title_en": "Changed"}, content_type="application/json"
    )
    assert response.status_code in {401, 403}
    cast.public_a.refresh_from_db()
    assert cast.public_a.title_en == "Open cooperation of Alpha"


# --------------------------------------------------------------------------
# The delivery log and secret rotation


def attempt(endpoint, webhook_id, **fields):
    from django.utils import timezone

    from agreements.models import WebhookDelivery

    values = {"first_cursor": 1, "last_cursor": 2, "entries": 1, "attempted_at": timezone.now()} | fields
    return WebhookDelivery.objects.create(endpoint=endpoint, webhook_id=webhook_id, **values)


@pytest.mark.parametrize("role", ["anonymous", "staff", *SEES])
def test_who_reads_which_delivery_log(role, role_clients, endpoints):
    for name, endpoint in endpoints.items():
        attempt(endpoint, f"msg_{name}", status_code=200, succeeded=True, response_excerpt=f"thanks {name}")
    client = role_clients[role]
    for name, endpoint in endpoints.items():
        response = client.get(f"{URL}{endpoint.pk}/deliveries/")
        if role == "anonymous":
            assert response.status_code == 401
        elif role == "staff":
            assert response.status_code == 403
        elif name in SEES[role]:
            assert response.status_code == 200, (role, name)
            assert [row["webhook_id"] for row in response.json()["results"]] == [f"msg_{name}"]
        else:
            assert response.status_code == 404, (role, name)
            assert f"thanks {name}" not in response.content.decode()


def test_the_delivery_log_says_what_happened_newest_first(role_clients, endpoints):
    import datetime

    from django.utils import timezone

    endpoint = endpoints["a"]
    start = timezone.now()
    attempt(endpoint, "msg_1", attempted_at=start, status_code=503, latency_ms=40, error="The receiver answered 503.")
    attempt(endpoint, "msg_1", attempt=2, attempted_at=start + datetime.timedelta(seconds=30), status_code=200,
            succeeded=True, latency_ms=12, response_excerpt="ok")  # fmt: skip
    client = role_clients["partner_a"]
    client.get(f"{URL}{endpoint.pk}/deliveries/")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"{URL}{endpoint.pk}/deliveries/")
    # Rate-limit counters (the database cache without Redis) aside: token, endpoint, count, page.
    own = [q["sql"] for q in captured.captured_queries]
    own = [sql for sql in own if "registry_cache" not in sql and "SAVEPOINT" not in sql]
    assert len(own) == 4, own
    rows = response.json()["results"]
    assert response.json()["count"] == 2
    assert [(r["attempt"], r["status_code"], r["succeeded"], r["latency_ms"]) for r in rows] == [
        (2, 200, True, 12),
        (1, 503, False, 40),
    ]
    assert rows[0]["response_excerpt"] == "ok" and rows[1]["error"] == "The receiver answered 503."
    assert rows[0]["webhook_id"] == rows[1]["webhook_id"] == "msg_1"  # a retry keeps its message's id
    assert client.post(f"{URL}{endpoint.pk}/deliveries/").status_code == 405


@pytest.mark.parametrize("role", ["anonymous", "staff", *SEES])
def test_who_rotates_which_secret(role, role_clients, endpoints):
    client = role_clients[role]
    for name, endpoint in endpoints.items():
        old = endpoint.secret
        response = client.post(f"{URL}{endpoint.pk}/rotate-secret/")
        endpoint.refresh_from_db()
        if role in SEES and name in SEES[role]:
            assert response.status_code == 200, (role, name)
            body = response.json()
            assert body["secret"] == endpoint.secret != old and body["secret"].startswith("whsec_")
            assert body["previous_secret_expires_at"] is not None and "previous_secret" not in body
            assert endpoint.previous_secret == old
        else:
            assert response.status_code == {"anonymous": 401, "staff": 403}.get(role, 404), (role, name)
            assert endpoint.secret == old and endpoint.previous_secret == ""


def test_the_schema_documents_the_delivery_log_and_rotation(client, db):
    import yaml

    schema = yaml.safe_load(client.get("/api/v1/schema/", HTTP_ACCEPT_LANGUAGE="en").content)
    log = schema["paths"]["/api/v1/webhooks/{id}/deliveries/"]["get"]
    assert {"200", "401", "403", "404"} <= set(log["responses"])
    rotate = schema["paths"]["/api/v1/webhooks/{id}/rotate-secret/"]["post"]
    assert {"200", "401", "403", "404"} <= set(rotate["responses"]) and "requestBody" not in rotate
    assert "previous_secret_expires_at" in schema["components"]["schemas"]["WebhookEndpoint"]["properties"]
