import datetime
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_schema_validates_without_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_schema_documents_filters_auth_and_errors(client):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    listing = schema["paths"]["/api/v1/agreements/"]["get"]
    parameters = {p["name"] for p in listing["parameters"]}
    assert parameters >= {
        "status",
        "kind",
        "party",
        "country",
        "topic",
        "trip",
        "signed_after",
        "signed_before",
        "updated_after",
        "q",
        "ordering",
        "page",
        "page_size",
    }
    assert {"400", "401", "404", "429"} <= set(listing["responses"])
    assert "tokenAuth" in schema["components"]["securitySchemes"]
    assert set(schema["paths"]) >= {
        f"/api/v1/{r}/" for r in ("agreements", "organisations", "signing-events", "trips", "topics", "people")
    }


@pytest.mark.django_db
def test_docs_load_nothing_from_other_hosts(client, settings):
    # Serve static files from the apps, as collectstatic would (tests skip it).
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    external = re.findall(r'(?:src|href)="(https?://[^"]+)"', page)
    assert external == []
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page):
        static = client.get(asset)
        assert static.status_code == 200, asset
        static.close()  # file responses hold the file open until closed


@pytest.fixture
def schema(client, db):
    return yaml.safe_load(client.get("/api/v1/schema/", HTTP_ACCEPT_LANGUAGE="en").content)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


# An organisation's own configuration: even its reads need its credentials.
OWN_CONFIGURATION = ("/api/v1/webhooks/",)


def test_reads_need_no_credentials_and_writes_do(schema):
    for path, method, operation in operations(schema):
        security = operation.get("security", [])
        if method == "get" and not path.startswith(OWN_CONFIGURATION):
            assert {} in security, f"GET {path}: anonymous reads are answered, the schema must say so"
        else:
            assert {} not in security, f"{method.upper()} {path} needs credentials"


def test_programme_item_times_are_local_times_without_an_offset(schema, client, cast):
    item = schema["components"]["schemas"]["ProgrammeItem"]["properties"]["start_time"]
    assert item.get("format") != "time"  # RFC 3339's time has an offset; these are wall-clock times
    cast.programme_item.start_time = datetime.time(14, 30)
    cast.programme_item.save()
    trip = client.get(f"/api/v1/trips/{cast.trip.slug}/").json()
    start = trip["programme"][0]["start_time"]
    assert re.fullmatch(item["pattern"], start), start


LISTS = ["agreements", "organisations", "people", "topics", "signing-events", "trips"]


@pytest.mark.django_db
@pytest.mark.parametrize("resource", LISTS)
def test_an_empty_parameter_is_the_same_as_none_on_every_list(client, schema, resource, signed_agreement):
    """One rule (was: ``country=`` a 400, ``q=`` ignored): every query parameter given empty."""
    path = f"/api/v1/{resource}/"
    names = [p["name"] for p in schema["paths"][path]["get"]["parameters"] if p["in"] == "query"]
    assert names
    plain = client.get(path, HTTP_ACCEPT_LANGUAGE="en").json()
    for name in names:
        response = client.get(f"{path}?{name}=", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, (name, response.content)
        assert response.json() == plain, name
    assert all(p.get("allowEmptyValue") for p in schema["paths"][path]["get"]["parameters"] if p["in"] == "query")


@pytest.mark.django_db
def test_an_empty_parameter_is_the_same_as_none_on_the_public_list(client, signed_agreement):
    plain = client.get("/en/agreements/")
    for name in ("q", "party", "country", "topic", "kind", "year", "trip", "ordering"):
        response = client.get(f"/en/agreements/?{name}=")
        assert response.status_code == 200, name
        assert signed_agreement.title_en in response.content.decode()
    assert plain.status_code == 200
