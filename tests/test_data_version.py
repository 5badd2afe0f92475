"""The data version: one value that changes with every write to the tables
the API and the pages show, however the write is made. API list ETags, cached
answers and the list page's filter choices are keyed by it."""

import datetime
import time

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from agreements.models import Agreement, DataVersion, Organisation

from .factories import AgreementFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

NOT_SHOWN = {
    "ApiToken",
    "ExpiryReminder",
    "DataVersion",
    "IdempotencyKey",
    "Change",
    "ChangeFeedState",
    "WebhookEndpoint",  # webhooks: an organisation's own configuration and its delivery log,
    "WebhookDelivery",  # read fresh by the API and the admin (no cached answer shows them)
}  # the feed is read fresh


def tables_with_triggers() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT event_object_table FROM information_schema.triggers WHERE action_statement LIKE %s",
                ["%agreements_dataversion_bump%"],
            )
        else:
            cursor.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%dataversion%'")
        return {row[0] for row in cursor.fetchall()}


def test_every_table_the_registry_shows_has_the_triggers():
    shown = {
        model._meta.db_table
        for model in apps.get_app_config("agreements").get_models(include_auto_created=True)
        if not model.__name__.startswith("Historical") and model.__name__ not in NOT_SHOWN
    }
    assert shown <= tables_with_triggers(), "a table without triggers: add them in its migration (see 0015)"


def test_writes_of_every_kind_change_the_version():
    agreement = AgreementFactory(signed=True)
    seen = [DataVersion.current()]

    def changed():
        seen.append(DataVersion.current())
        return seen[-1] > seen[-2]

    agreement.title_en = "Saved"
    agreement.save()
    assert changed()
    Agreement.objects.filter(pk=agreement.pk).update(title_en="Updated")
    assert changed()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE agreements_organisation SET name = 'Raw' WHERE id = %s", [agreement.parties.first().organisation_id]
        )
    assert changed()
    agreement.parties.first().delete()
    assert changed()


def test_a_rolled_back_write_leaves_the_version():
    agreement = AgreementFactory(signed=True)
    before = DataVersion.current()
    with pytest.raises(RuntimeError), transaction.atomic():
        Agreement.objects.filter(pk=agreement.pk).update(title_en="Never")
        raise RuntimeError
    assert DataVersion.current() == before


def test_a_lost_version_row_starts_again_above_every_earlier_value():
    AgreementFactory(signed=True)
    before = DataVersion.current()
    DataVersion.objects.all().delete()
    if connection.vendor == "sqlite":
        # SQLite's clock has millisecond resolution and every write in the
        # same millisecond adds 1: the restart is above once the clock moved on
        # (PostgreSQL's clock counts microseconds). It flaked without this.
        time.sleep(0.002)
    assert DataVersion.current() > before


def test_a_list_answer_follows_a_bulk_update_the_orm_sends_no_signal_for():
    agreement = AgreementFactory(signed=True, title_en="Before")
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    first = client.get("/api/v1/agreements/")
    assert first.json()["results"][0]["title"] == "Before"
    Agreement.objects.filter(pk=agreement.pk).update(title_en="After")
    again = client.get("/api/v1/agreements/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and again.json()["results"][0]["title"] == "After"


def test_a_cached_list_answer_costs_one_query_and_a_bad_parameter_is_still_refused():
    for _ in range(3):
        AgreementFactory(signed=True)
    client = APIClient()
    assert client.get("/api/v1/agreements/?page_size=2").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        again = client.get("/api/v1/agreements/?page_size=2")
    own = [
        q["sql"] for q in queries.captured_queries if "registry_cache" not in q["sql"] and "SAVEPOINT" not in q["sql"]
    ]
    assert again.status_code == 200 and len(own) == 1 and "agreements_dataversion" in own[0]
    refused = client.get("/api/v1/agreements/?page_size=2&year=soon")
    assert refused.status_code == 400 and "year" in refused.json()


def test_list_answers_name_the_host_they_were_asked_on(settings):
    settings.ALLOWED_HOSTS = ["one.example", "two.example"]
    AgreementFactory(signed=True)
    one = APIClient(HTTP_HOST="one.example").get("/api/v1/agreements/")
    two = APIClient(HTTP_HOST="two.example").get("/api/v1/agreements/")
    assert one["ETag"] != two["ETag"]
    assert one.json()["results"][0]["url"].startswith("http://one.example/")
    assert two.json()["results"][0]["url"].startswith("http://two.example/")


def test_a_list_answer_changes_the_day_an_agreement_expires(monkeypatch):
    today = timezone.localdate()
    AgreementFactory(signed=True, valid_from=today - datetime.timedelta(days=30), valid_until=today)
    client = APIClient()
    first = client.get("/api/v1/agreements/")
    assert first.json()["results"][0]["expired"] is False
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: today + datetime.timedelta(days=1))
    later = client.get("/api/v1/agreements/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert later.status_code == 200 and later.json()["results"][0]["expired"] is True


def test_a_detail_answer_changes_the_day_its_agreement_expires(monkeypatch):
    today = timezone.localdate()
    agreement = AgreementFactory(signed=True, valid_from=today - datetime.timedelta(days=30), valid_until=today)
    client = APIClient()
    path = f"/api/v1/agreements/{agreement.slug}/"
    first = client.get(path)
    assert first.json()["expired"] is False
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: today + datetime.timedelta(days=1))
    later = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
    assert later.status_code == 200 and later.json()["expired"] is True


def test_the_list_page_filter_choices_follow_a_bulk_rename(client):
    agreement = AgreementFactory(signed=True)
    organisation = agreement.parties.first().organisation
    assert organisation.name in client.get("/en/agreements/").content.decode()
    Organisation.objects.filter(pk=organisation.pk).update(name="Renamed in bulk")
    assert "Renamed in bulk" in client.get("/en/agreements/").content.decode()


def test_new_organisations_change_the_version():
    before = DataVersion.current()
    OrganisationFactory()
    assert DataVersion.current() > before


def own_queries(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    return response, [
        q["sql"] for q in queries.captured_queries if "registry_cache" not in q["sql"] and "SAVEPOINT" not in q["sql"]
    ]


@pytest.mark.parametrize(
    "path", ["/en/", "/en/agreements/?kind=cooperation_agreement", "/en/organisations/", "/feeds/agreements/"]
)
def test_a_public_page_is_rendered_once_per_data_version(client, path):
    agreement = AgreementFactory(signed=True, title_de="First title", title_en="First title")
    first, first_queries = own_queries(client, path)
    again, again_queries = own_queries(client, path)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content and again["Content-Type"] == first["Content-Type"]
    assert len(again_queries) == 1 < len(first_queries) and "agreements_dataversion" in again_queries[0]
    # Security headers are the middleware's, on cached pages too.
    assert "Content-Security-Policy" in again
    agreement.title_de = agreement.title_en = "Second title"
    agreement.save()
    organisation = agreement.parties.first().organisation
    organisation.name = "Renamed organisation"
    organisation.save()
    changed = client.get(path).content.decode()
    assert ("Second title" in changed or "Renamed organisation" in changed) and "First title" not in changed


def test_cached_pages_keep_their_language_and_host(client, settings):
    settings.ALLOWED_HOSTS = ["one.example", "two.example"]
    agreement = AgreementFactory(signed=True, title_de="Deutscher Titel", title_en="English title")
    path = f"/agreements/{agreement.slug}/"
    assert "Deutscher Titel" in client.get(path, HTTP_HOST="one.example").content.decode()
    english = client.get(f"/en{path}", HTTP_HOST="one.example").content.decode()
    assert "English title" in english and "Deutscher Titel" not in english.split("<main")[1]
    other_host = client.get(path, HTTP_HOST="two.example").content.decode()
    assert "http://two.example/" in other_host and "one.example" not in other_host


def test_a_refused_filter_is_not_kept(client):
    AgreementFactory(signed=True)
    assert client.get("/en/agreements/?year=soon").status_code == 400
    _, queries = own_queries(client, "/en/agreements/?year=soon")
    assert len(queries) > 1  # rendered again, not served from the cache
