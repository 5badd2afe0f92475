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
