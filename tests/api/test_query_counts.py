"""Every list runs the same number of queries at page size 1 and 100; every
detail a small fixed number."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ..factories import (
    AgreementDocumentFactory,
    AgreementFactory,
    AgreementSourceFactory,
    DelegationTripFactory,
    PersonFactory,
    ProgrammeItemFactory,
    SignatoryFactory,
    SigningEventFactory,
    TopicFactory,
    TripStopFactory,
)

pytestmark = pytest.mark.django_db


def make_rows(n):
    topic = TopicFactory()
    for _ in range(n):
        trip = DelegationTripFactory()
        TripStopFactory(trip=trip)
        ProgrammeItemFactory(trip=trip)
        event = SigningEventFactory(trip=trip)
        event.people_present.set([PersonFactory()])
        agreement = AgreementFactory(signed=True, signing_event=event, topics=[topic])
        SignatoryFactory(agreement=agreement)
        AgreementDocumentFactory(agreement=agreement, is_public=True)
        AgreementSourceFactory(agreement=agreement)


def queries(client, url, *, without_cache=False) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, response.content
    sql = [q["sql"] for q in context.captured_queries]
    if without_cache:
        # Rate-limit counters live in the database cache when Redis is not
        # configured (6 statements); they are not the resource's own queries.
        sql = [q for q in sql if "registry_cache" not in q and "SAVEPOINT" not in q]
    return len(sql)


LISTS = ["agreements", "organisations", "people", "topics", "signing-events", "trips"]


@pytest.mark.parametrize("resource", LISTS)
@pytest.mark.parametrize("caller", ["anonymous", "partner", "staff"])
def test_lists_run_a_constant_number_of_queries(client, admin_user, resource, caller):
    make_rows(3)
    headers = {}
    if caller == "partner":
        from agreements.models import Organisation
        from agreements.services import token_create

        _, key = token_create(name="p", organisation=Organisation.objects.first())
        headers = {"HTTP_AUTHORIZATION": f"Token {key}"}
    if caller == "staff":
        client.force_login(admin_user)
    caller_client = client.__class__(**headers) if headers else client
    # The first use of a token records its last use (at most once a minute): warm up.
    caller_client.get("/api/v1/")
    small = queries(caller_client, f"/api/v1/{resource}/?page_size=1")
    make_rows(7)
    large = queries(caller_client, f"/api/v1/{resource}/?page_size=100")
    assert small == large, f"{resource} as {caller}: {small} queries at page size 1, {large} at 100"


# The version stamp (pk, updated_at) for the ETag, the object, then one query
# per prefetched relation (when the answer is not in the cache yet).
DETAIL_QUERIES = {"agreements": 7, "organisations": 2, "people": 2, "topics": 2, "signing-events": 4, "trips": 6}


@pytest.mark.parametrize("resource", LISTS)
def test_details_run_a_small_fixed_number_of_queries(client, resource):
    make_rows(2)
    listing = client.get(f"/api/v1/{resource}/").json()["results"]
    count = queries(client, f"/api/v1/{resource}/{listing[0]['slug']}/", without_cache=True)
    assert count == DETAIL_QUERIES[resource], f"{resource}: {count}"
