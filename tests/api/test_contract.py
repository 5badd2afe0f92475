"""Property-based contract run: schemathesis against the live schema served by
the test server, as anonymous caller, partner and staff. No 5xx, and every
response conforms to the published schema."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from agreements.models import Organisation
from agreements.services import token_create

from ..factories import AgreementFactory, UserFactory

ST = str(Path(sys.executable).parent / "st")
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"


@pytest.fixture
def live_registry(live_server, transactional_db, settings):
    if connection.vendor != "postgresql":
        # The answers do not depend on the database; CI runs the (slow) contract once, on PostgreSQL.
        pytest.skip("the schemathesis contract run is on PostgreSQL (DATABASE_URL=postgres://… bin/test)")
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anonymous": "100000/minute", "partner": "100000/minute", "staff": "100000/minute"},
    }
    call_command("load_founding_data", verbosity=0)
    amz = Organisation.objects.get(slug="amz")
    AgreementFactory(slug="hidden-draft", parties=[amz, Organisation.objects.get(slug="soda")])
    _, partner_key = token_create(name="contract partner", organisation=amz)
    staff = UserFactory(username="contract-staff", is_staff=True, is_superuser=True)
    _, staff_key = token_create(name="contract staff", user=staff)
    return live_server.url, {"anonymous": None, "partner": partner_key, "staff": staff_key}


def run_schemathesis(url, key, phases):
    command = [
        ST,
        "run",
        f"{url}/api/v1/schema/",
        "--checks",
        CHECKS,
        "--phases",
        phases,
        "--max-examples",
        "10",
        "--seed",
        "20261126",
        "--no-color",
        "--request-timeout",
        "30",
    ]
    if key:
        command += ["--header", f"Authorization: Token {key}"]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.parametrize(
    ("caller", "phases"),
    [("anonymous", "coverage,fuzzing,stateful"), ("partner", "fuzzing"), ("staff", "fuzzing,stateful")],
)
def test_api_honours_its_schema(live_registry, caller, phases):
    url, keys = live_registry
    result = run_schemathesis(url, keys[caller], phases)
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary
    assert " generated, " in summary and " passed" in summary
    print(summary)  # the operations and examples run, for the record (pytest -s)
