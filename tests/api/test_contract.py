"""Property-based contract run: schemathesis against the live schema served by
the test server, as anonymous caller, partner and staff. No 5xx, and every
response conforms to the published schema.

Every operation is fuzzed as every caller. The coverage phase (boundary and
invalid values of every parameter and body field, some 4,000 cases) runs on
the reads as the anonymous caller: there each value reaches the filters and
lookups. On a write an anonymous caller is refused before the body is read,
so its ~3,000 coverage cases of the writes only showed the same 401 again
(fuzzing still sends every write as every caller)."""

import re
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


def run_schemathesis(url, key, phases, methods=()):
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
    for method in methods:
        command += ["--include-method", method]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.parametrize(
    ("caller", "phases", "methods"),
    [
        ("anonymous", "coverage", ("GET",)),  # the reads: every filter's boundary and invalid values
        ("anonymous", "fuzzing,stateful", ()),
        ("partner", "fuzzing", ()),
        ("staff", "fuzzing,stateful", ()),
    ],
    ids=["anonymous-coverage-reads", "anonymous", "partner", "staff"],
)
def test_api_honours_its_schema(live_registry, caller, phases, methods):
    url, keys = live_registry
    result = run_schemathesis(url, keys[caller], phases, methods)
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary
    assert " generated, " in summary and " passed" in summary
    selected, total = map(int, re.search(r"Selected: (\d+)/(\d+)", result.stdout).groups())
    tested = int(re.search(r"Tested: (\d+)", result.stdout).group(1))
    assert tested == selected, summary  # every operation the run selected was exercised
    if not methods:
        assert selected == total, summary  # every operation, as this caller
    print(summary)  # the operations and examples run, for the record (pytest -s)
