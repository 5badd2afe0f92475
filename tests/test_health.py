import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Ask /readyz from a fresh process whose database cannot be reached.
PROBE = """
import django, json
django.setup()
from django.test import Client
response = Client().get("/readyz")
print(response.status_code, response.get("Retry-After"), json.dumps(response.json()))
response = Client().get("/healthz")
print(response.status_code)
"""


def test_healthz_answers_without_the_database(client):
    # No django_db mark: any database access here would raise.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ready_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize(
    "database_url",
    [
        "postgres://postgres@127.0.0.1:1/registry",  # nothing listens on port 1
        "sqlite:////nonexistent-directory/registry.sqlite3",
    ],
    ids=["postgresql-closed-port", "sqlite-unreachable-file"],
)
def test_readyz_is_503_when_the_database_is_unreachable(database_url):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "registry.settings",
        "DATABASE_CONNECT_TIMEOUT": "2",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    readiness, liveness = result.stdout.strip().splitlines()[-2:]
    assert readiness == '503 5 {"status": "unavailable", "reason": "database \'default\' is unreachable"}'
    assert liveness == "200"
    assert "Traceback" not in result.stderr


def test_readyz_only_answers_get(client):
    assert client.post("/readyz").status_code == 405


def test_probes_may_call_by_ip_over_plain_http(client, settings):
    settings.ALLOWED_HOSTS = ["registry.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200
    # Everything else still gets the host check.
    assert client.get("/admin/", HTTP_HOST="10.0.0.7:8000").status_code == 400
