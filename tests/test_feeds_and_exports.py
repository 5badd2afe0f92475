"""Subscriptions and open data, parsed as a consumer would."""

import csv
import io
import json
import xml.etree.ElementTree as ET

import icalendar
import pytest

from .factories import AgreementFactory, OrganisationFactory

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def body(response) -> str:
    return b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()


def test_atom_feed_lists_published_agreements_only(client, founding_data):
    AgreementFactory(slug="draft", title_en="SECRET DRAFT")
    AgreementFactory(slug="private", signed=True, is_public=False, title_en="PRIVATE")
    response = client.get("/en/feeds/agreements/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own feed, in a test
    assert root.tag == f"{ATOM}feed"
    titles = [entry.findtext(f"{ATOM}title") for entry in root.findall(f"{ATOM}entry")]
    assert sorted(titles) == [
        "Cooperation agreement between AMZ and SA&AM",
        "Cooperation agreement between Silicon Saxony and SoDA",
    ]
    for entry in root.findall(f"{ATOM}entry"):
        assert entry.find(f"{ATOM}link").get("href").startswith("http://testserver/en/agreements/")
        assert entry.findtext(f"{ATOM}id").startswith("urn:agreement-registry:agreement:")
        assert entry.findtext(f"{ATOM}published")


def test_icalendar_has_signing_events_and_programme_items(client, founding_data):
    response = client.get("/en/calendar.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    events = {str(event["SUMMARY"]): event for event in calendar.walk("VEVENT")}
    assert "Signing of Saxon-Polish cooperation agreements in Katowice" in events
    assert "1st European Future Forum" in events
    assert any("simul+" in summary for summary in events)
    assert len(events) == 4
    signing = events["Signing of Saxon-Polish cooperation agreements in Katowice"]
    assert signing.decoded("DTSTART").isoformat() == "2021-10-07"
    assert "Katowice" in str(signing["LOCATION"])
    assert len({str(event["UID"]) for event in events.values()}) == 4


def test_csv_rows_match_the_filtered_count(client, founding_data):
    pl = OrganisationFactory(country="PL")
    for index in range(7):
        AgreementFactory(signed=True, slug=f"extra-{index}", parties=[pl, OrganisationFactory(country="CZ")])
    AgreementFactory(slug="draft", parties=[pl, OrganisationFactory()])
    for query, expected in [("", 9), ("country=CZ", 7), ("party=amz", 1), ("q=Silicon", 1), ("kind=other", 0)]:
        response = client.get(f"/agreements.csv?{query}")
        assert response.status_code == 200 and response.streaming
        rows = list(csv.DictReader(io.StringIO(body(response).lstrip("\ufeff"))))
        assert len(rows) == expected, query
        page = client.get(f"/en/?{query}").content.decode()
        assert f"{expected} agreement" in page
    rows = list(csv.DictReader(io.StringIO(body(client.get("/agreements.csv?party=amz")).lstrip("\ufeff"))))
    assert rows[0]["slug"] == "amz-sa-am-cooperation-2021"
    assert rows[0]["parties"] == "Netzwerk Automobilzulieferer Sachsen | Silesia Automotive & Advanced Manufacturing"
    assert rows[0]["countries"] == "DE | PL" and rows[0]["signed_on"] == "2021-10-07"


def test_json_download_is_valid_and_filtered(client, founding_data):
    AgreementFactory(slug="draft")
    response = client.get("/en/agreements.json?country=PL")
    assert response.status_code == 200 and response.streaming
    data = json.loads(body(response))
    assert {row["slug"] for row in data} == {"amz-sa-am-cooperation-2021", "silicon-saxony-soda-cooperation-2021"}
    assert data[0]["url"].startswith("http://testserver/en/agreements/")
    assert json.loads(body(client.get("/agreements.json?kind=other"))) == []


def test_downloads_refuse_bad_filters_clearly(client, founding_data):
    for url in ("/agreements.csv?year=abc", "/agreements.json?party=nobody"):
        response = client.get(url)
        assert response.status_code == 400
        assert response.json()["parameters"]
