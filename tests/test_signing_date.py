"""One effective signing date: "signed on" where the record states it, else the
signing event's date, with its precision. Ordering, filters, pages, feeds,
exports and JSON-LD all use it, and the database keeps it (so bulk updates,
raw SQL and a signing event whose date changes count too)."""

import csv
import datetime
import io
import json
import re

import pytest
from django.db import connection

from agreements.choices import AgreementStatus, DatePrecision
from agreements.models import Agreement, SigningEvent

from .factories import AgreementFactory, SigningEventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(db):
    """Signed 2018 (own date), 2019-05 (only through an event known to the month), 2020 (own date)."""
    event = SigningEventFactory(slug="forum-2019", date=datetime.date(2019, 5, 1), date_precision=DatePrecision.MONTH)
    old = AgreementFactory(signed=True, slug="old", title_en="Old", signed_on=datetime.date(2018, 3, 4))
    by_event = AgreementFactory(signed=True, slug="by-event", title_en="By event", signed_on=None, signing_event=event)
    new = AgreementFactory(signed=True, slug="new", title_en="New", signed_on=datetime.date(2020, 6, 7))
    return old, by_event, new


def api_slugs(client, query=""):
    response = client.get(f"/api/v1/agreements/?{query}")
    assert response.status_code == 200, response.content
    return [row["slug"] for row in response.json()["results"]]


def test_the_effective_date_is_stored_for_an_agreement_signed_only_through_an_event(three):
    _, by_event, _ = three
    stored = Agreement.objects.values("signed_on", "signed_date", "signed_date_precision").get(pk=by_event.pk)
    assert stored == {"signed_on": None, "signed_date": datetime.date(2019, 5, 1), "signed_date_precision": "month"}
    # The instance in hand says the same as the database.
    assert (by_event.signed_date, by_event.signed_date_precision) == (datetime.date(2019, 5, 1), "month")


def test_api_orders_by_the_effective_date_in_both_directions(client, three):
    assert api_slugs(client) == ["new", "by-event", "old"]
    assert api_slugs(client, "ordering=-signed_on") == ["new", "by-event", "old"]
    assert api_slugs(client, "ordering=signed_on") == ["old", "by-event", "new"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("year=2019", ["by-event"]),
        ("signed_after=2019-01-01&signed_before=2019-12-31", ["by-event"]),
        ("signed_after=2019-01-01", ["new", "by-event"]),
        ("signed_before=2019-06-01", ["by-event", "old"]),
    ],
)
def test_api_filters_use_the_effective_date(client, three, query, expected):
    assert api_slugs(client, query) == expected


def test_api_answer_names_the_effective_date(client, three):
    data = client.get("/api/v1/agreements/by-event/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert data["signed_on"] is None
    assert data["signed_date"] == "2019-05-01"
    assert data["signed_date_precision"] == "month"
    assert data["signed_on_display"] == "May 2019"


def test_public_list_orders_and_filters_by_the_effective_date(client, three):
    page = client.get("/en/agreements/").content.decode()
    positions = [page.index(f"/en/agreements/{slug}/") for slug in ("new", "by-event", "old")]
    assert positions == sorted(positions)
    page = client.get("/en/agreements/?ordering=signed_on").content.decode()
    positions = [page.index(f"/en/agreements/{slug}/") for slug in ("old", "by-event", "new")]
    assert positions == sorted(positions)
    page = client.get("/en/agreements/?year=2019").content.decode()
    assert "/en/agreements/by-event/" in page
    assert "/en/agreements/old/" not in page and "/en/agreements/new/" not in page
    # The year filter offers the year known only from the event.
    assert re.search(r'<option value="2019"', page)


def test_detail_page_and_json_ld_use_the_effective_date_with_its_precision(client, three):
    page = client.get("/en/agreements/by-event/").content.decode()
    assert "May 2019" in page
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))
    assert data["dateCreated"] == "2019-05"


def test_exports_carry_the_effective_date_in_the_reduced_form_of_its_precision(client, three):
    text = b"".join(client.get("/agreements.csv").streaming_content).decode("utf-8-sig")
    rows = {row["slug"]: row for row in csv.DictReader(io.StringIO(text))}
    assert (rows["by-event"]["signed_date"], rows["by-event"]["signed_date_precision"]) == ("2019-05", "month")
    assert rows["by-event"]["signed_on"] == ""
    assert rows["old"]["signed_date"] == "2018-03-04"
    data = json.loads(b"".join(client.get("/agreements.json").streaming_content))
    assert [row["slug"] for row in data] == ["new", "by-event", "old"]
    assert data[1]["signed_date"] == "2019-05"


def test_feed_describes_the_effective_date(client, three):
    feed = client.get("/en/feeds/agreements/").content.decode()
    assert "May 2019" in feed


def test_a_changed_event_date_moves_its_agreements_even_through_a_bulk_update(client, three):
    _, by_event, _ = three
    SigningEvent.objects.filter(slug="forum-2019").update(date=datetime.date(2021, 9, 30), date_precision="day")
    by_event.refresh_from_db()
    assert (by_event.signed_date, by_event.signed_date_precision) == (datetime.date(2021, 9, 30), "day")
    assert api_slugs(client) == ["by-event", "new", "old"]
    assert api_slugs(client, "year=2021") == ["by-event"]


def test_the_database_recomputes_the_date_whatever_the_write(three):
    old, by_event, _ = three
    # A stated date wins over the event's; removing it falls back to the event.
    Agreement.objects.filter(pk=by_event.pk).update(signed_on=datetime.date(2019, 5, 20))
    assert Agreement.objects.values_list("signed_date", "signed_date_precision").get(pk=by_event.pk) == (
        datetime.date(2019, 5, 20),
        "day",
    )
    Agreement.objects.filter(pk=by_event.pk).update(signed_on=None)
    assert Agreement.objects.values_list("signed_date", flat=True).get(pk=by_event.pk) == datetime.date(2019, 5, 1)
    # Writing the derived column directly does not make it lie.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE agreements_agreement SET signed_date = %s WHERE id = %s", ["1999-01-01", old.pk])
    assert Agreement.objects.values_list("signed_date", flat=True).get(pk=old.pk) == datetime.date(2018, 3, 4)


def test_drafts_without_a_date_sort_last_in_both_directions(admin_client, three):
    AgreementFactory(slug="undated-draft", status=AgreementStatus.DRAFT)
    for ordering in ("-signed_on", "signed_on"):
        assert api_slugs(admin_client, f"ordering={ordering}&status=draft&status=signed")[-1] == "undated-draft"
