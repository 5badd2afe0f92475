"""Statistics and the map (issue 15, parts 1 and 2): the numbers on a known
cast, never counting what the caller may not see; the CSV files; accessible
SVG; the same filters as the list; a constant number of queries."""

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements.models import Organisation

from .factories import AgreementFactory, OrganisationFactory, TopicFactory
from .helpers import body, token_client

pytestmark = pytest.mark.django_db

PREFIXES = {"de": "", "en": "/en", "pl": "/pl"}


@pytest.fixture
def hidden_signed_a(cast):
    """Signed but not public, of A and the far partner (Iceland): counted only for those who may see it."""
    return AgreementFactory(
        slug="hidden-signed-a",
        status="signed",
        signed_on=datetime.date(2019, 5, 1),
        is_public=False,
        kind="letter_of_intent",
        parties=[cast.org_a, cast.org_far],
    )


def csv_rows(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(body(response).lstrip("\ufeff"))))


def api_statistics(client, query="") -> dict:
    response = client.get(f"/api/v1/statistics/{query}")
    assert response.status_code == 200, response.content
    return response.json()


# --------------------------------------------------------------------------
# The numbers


def test_the_public_statistics_count_published_agreements_only(cast, hidden_signed_a, client):
    response = client.get("/en/statistics/")
    assert response.status_code == 200
    page = body(response)
    assert "1 signed agreement counted" in page
    # The API's anonymous answer: the same numbers.
    data = api_statistics(client)
    assert data["agreements"] == 1
    assert data["by_year"] == [{"year": 2021, "agreements": 1}]
    assert [row["kind"] for row in data["by_kind"]] == ["cooperation_agreement"]
    assert data["by_topic"] == [{"topic": "software", "name": cast.topic.name, "agreements": 1}]
    assert {row["country"]: row["agreements"] for row in data["by_country"]} == {"DE": 1, "CZ": 1}
    assert [(row["countries"], row["agreements"]) for row in data["by_country_pair"]] == [(["CZ", "DE"], 1)]
    assert {(row["country"], row["organisations"]) for row in data["organisations"]} == {("DE", 1), ("CZ", 1)}
    assert data["activity_by_year"] == [{"year": 2021, "trips": 1, "signing_events": 1}]
    # Iceland is only in hidden agreements: nowhere in the public statistics.
    assert "Iceland" not in page
    assert "IS" not in {row["country"] for row in data["by_country"]}


def test_a_partner_counts_its_own_hidden_agreements_and_never_another_organisations(cast, hidden_signed_a):
    a = api_statistics(token_client(cast.keys["partner_a"]))
    b = api_statistics(token_client(cast.keys["partner_b"]))
    # A: public_a and its own signed hidden agreement (its draft is not signed, so not counted).
    assert a["agreements"] == 2
    assert {row["country"]: row["agreements"] for row in a["by_country"]} == {"DE": 2, "CZ": 1, "IS": 1}
    assert [row["year"] for row in a["by_year"]] == [2019, 2021]
    assert {tuple(row["countries"]) for row in a["by_country_pair"]} == {("CZ", "DE"), ("DE", "IS")}
    # B: public_a and B's own hidden_b, never A's hidden agreement.
    assert b["agreements"] == 2
    assert {row["country"]: row["agreements"] for row in b["by_country"]} == {"DE": 1, "CZ": 2, "PL": 1}
    assert {tuple(row["countries"]) for row in b["by_country_pair"]} == {("CZ", "DE"), ("CZ", "PL")}
    assert "letter_of_intent" not in {row["kind"] for row in b["by_kind"]}


def test_a_country_pair_counts_once_per_agreement_whatever_the_number_of_parties(db, client):
    dresden, leipzig = OrganisationFactory(country="DE"), OrganisationFactory(country="DE")
    katowice, krakow = OrganisationFactory(country="PL"), OrganisationFactory(country="PL")
    prague = OrganisationFactory(country="CZ")
    AgreementFactory(signed=True, parties=[dresden, leipzig, katowice, krakow])
    AgreementFactory(signed=True, parties=[dresden, prague, katowice])
    AgreementFactory(signed=True, parties=[dresden, leipzig])  # no border crossed
    data = api_statistics(client)
    pairs = {tuple(row["countries"]): row["agreements"] for row in data["by_country_pair"]}
    assert pairs == {("DE", "PL"): 2, ("CZ", "DE"): 1, ("CZ", "PL"): 1}
    assert {row["country"]: row["agreements"] for row in data["by_country"]} == {"DE": 3, "PL": 2, "CZ": 1}
    assert data["by_country_pair"][0]["countries"] == ["DE", "PL"]  # the most first


def test_the_pages_take_the_lists_filters(cast, hidden_signed_a, client):
    other = OrganisationFactory(slug="org-pl", country="PL")
    AgreementFactory(signed=True, parties=[other, cast.org_c], signed_on=datetime.date(2022, 3, 1))
    everything = api_statistics(client)
    assert everything["agreements"] == 2
    filtered = api_statistics(client, "?country=PL")
    assert filtered["agreements"] == 1
    assert filtered["by_year"] == [{"year": 2022, "agreements": 1}]
    page = body(client.get("/en/statistics/?country=PL"))
    assert "1 signed agreement counted" in page
    assert 'href="/en/agreements/?country=PL"' in page  # back to the list with the same filters
    rows = csv_rows(client.get("/en/statistics/by-year.csv?country=PL"))
    assert rows == [["Year", "Agreements"], ["2022", "1"]]
    # The list links to the statistics and the map of what it shows.
    listing = body(client.get("/en/agreements/?country=PL"))
    assert 'href="/en/statistics/?country=PL"' in listing
    assert 'href="/en/map/?country=PL"' in listing


def test_a_search_counts_each_matching_agreement_once(cast, client):
    AgreementFactory(signed=True, title_en="Hydrogen valley", parties=[cast.org_b, cast.org_c])
    data = api_statistics(client, "?q=hydrogen")
    assert data["agreements"] == 1
    assert [(row["countries"], row["agreements"]) for row in data["by_country_pair"]] == [(["CZ", "PL"], 1)]
    assert "1 signed agreement counted" in body(client.get("/en/statistics/?q=hydrogen"))
    assert body(client.get("/en/map/?q=hydrogen")).count("<tr>") == 2  # the header and the one link


def test_a_filter_that_cannot_be_used_is_a_clear_400(cast, client):
    page = client.get("/en/statistics/?year=abc")
    assert page.status_code == 400
    assert "year" in body(page)
    assert client.get("/en/statistics/by-year.csv?year=abc").status_code == 400
    assert client.get("/en/map/?year=abc").status_code == 400
    assert client.get("/en/map/links.csv?year=abc").status_code == 400
    answer = client.get("/api/v1/statistics/?year=abc")
    assert answer.status_code == 400
    assert "year" in answer.json()
    assert client.get("/en/statistics/no-such-table.csv").status_code == 404


def test_every_table_downloads_as_csv(cast, client):
    page = body(client.get("/en/statistics/"))
    links = re.findall(r'href="(/en/statistics/[a-z-]+\.csv)"', page)
    assert len(links) == 7
    expected = {
        "by-year": ["Year", "Agreements"],
        "by-kind": ["Kind", "Agreements"],
        "by-topic": ["Topic", "Agreements"],
        "by-country": ["Country", "Agreements"],
        "by-country-pair": ["Country", "Country", "Agreements"],
        "organisations": ["Country", "Kind", "Organisations"],
        "activity": ["Year", "Delegation trips", "Signing events"],
    }
    for link in links:
        response = client.get(link)
        assert response.status_code == 200
        slug = link.rsplit("/", 1)[1].removesuffix(".csv")
        assert response["Content-Disposition"] == f'attachment; filename="statistics-{slug}.csv"'
        rows = csv_rows(response)
        assert rows[0] == expected[slug]
        assert len(rows) >= 2
    assert csv_rows(client.get("/en/statistics/by-country-pair.csv"))[1:] == [["Czechia", "Germany", "1"]]


@pytest.mark.parametrize("language", PREFIXES)
def test_the_pages_in_three_languages(cast, client, language):
    words = {"de": "Statistik", "en": "Statistics", "pl": "Statystyki"}
    page = body(client.get(f"{PREFIXES[language]}/statistics/"))
    assert f'<html lang="{language}">' in page
    assert words[language] in page
    map_page = client.get(f"{PREFIXES[language]}/map/")
    assert map_page.status_code == 200
    assert f'<html lang="{language}">' in body(map_page)
    kinds = {"de": "Kooperationsvereinbarung", "en": "Cooperation agreement", "pl": "Umowa o współpracy"}
    assert kinds[language] in page


# --------------------------------------------------------------------------
# Accessible SVG, nothing from other hosts


def svg_elements(page: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", page, re.S)


def test_charts_are_accessible_images_with_their_numbers_beside_them(cast, client):
    page = body(client.get("/en/statistics/"))
    charts = svg_elements(page)
    assert len(charts) == 7
    for chart in charts:
        opening = chart.split(">", 1)[0]
        assert 'role="img"' in opening
        labelled = re.search(r'aria-labelledby="([^"]+) ([^"]+)"', opening).groups()
        assert re.search(rf'<title id="{labelled[0]}">[^<]+</title>', chart)
        assert re.search(rf'<desc id="{labelled[1]}">[^<]+</desc>', chart)
        assert "<script" not in chart and "http" not in chart.replace("http://www.w3.org/2000/svg", "")
    # Bars have text labels; the table beside holds the numbers.
    assert '<text class="chart-label"' in charts[0]
    assert page.count('<table class="numbers">') == 7
    assert "<script" not in page


def test_the_map_draws_placed_organisations_and_lists_the_links(cast, client):
    Organisation.objects.filter(pk=cast.org_a.pk).update(latitude=Decimal("51.05"), longitude=Decimal("13.74"))
    Organisation.objects.filter(pk=cast.org_c.pk).update(latitude=Decimal("50.09"), longitude=Decimal("14.42"))
    page = body(client.get("/en/map/"))
    (svg,) = svg_elements(page)
    assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
    assert svg.count("<line ") == 1  # public_a: A and C
    assert svg.count("<circle ") == 2
    assert svg.count("<path ") > 30  # Europe's countries
    assert "Natural Earth" in page
    # The same link as a table: organisation, organisation, count.
    row = re.search(r"<tbody>\s*<tr>(.*?)</tr>", page, re.S).group(1)
    assert "Alpha Cluster" in row and "Gamma Institute" in row and '<td class="number">1</td>' in row
    rows = csv_rows(client.get("/en/map/links.csv"))
    assert rows == [
        ["Organisation", "Country", "Organisation", "Country", "Agreements"],
        ["Alpha Cluster", "DE", "Gamma Institute", "CZ", "1"],
    ]


def test_the_map_never_draws_a_hidden_agreements_link(cast, hidden_signed_a, client):
    Organisation.objects.filter(pk=cast.org_far.pk).update(latitude=Decimal("64.15"), longitude=Decimal("-21.94"))
    page = body(client.get("/en/map/"))
    assert "Far Partners" not in page
    assert "FAR" not in svg_elements(page)[0]
    assert "Far Partners" not in body(client.get("/en/map/links.csv"))
    assert "Far Partners" not in body(client.get("/en/organisations/org-a/"))


def test_an_organisation_page_shows_a_small_map_of_its_partners(cast, client):
    Organisation.objects.filter(pk=cast.org_a.pk).update(latitude=Decimal("51.05"), longitude=Decimal("13.74"))
    Organisation.objects.filter(pk=cast.org_c.pk).update(latitude=Decimal("50.09"), longitude=Decimal("14.42"))
    page = body(client.get("/en/organisations/org-a/"))
    (svg,) = svg_elements(page)
    assert "Map of ALPHA and its partners" in svg
    assert svg.count("<line ") == 1
    assert "1 agreement together" in page
    # Zoomed on the two: the view box is much smaller than the whole map's.
    width = float(re.search(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+)', svg).group(1))
    assert width < 500


def test_an_organisation_without_coordinates_is_named_not_drawn(cast, client):
    Organisation.objects.filter(pk=cast.org_a.pk).update(latitude=Decimal("51.05"), longitude=Decimal("13.74"))
    page = body(client.get("/en/map/"))
    assert "Not on the map (no coordinates recorded): GAMMA." in page
    assert svg_elements(page)[0].count("<circle ") == 1


def test_coordinates_come_in_pairs_within_range(db):
    from django.core.exceptions import ValidationError

    organisation = OrganisationFactory.build(latitude=Decimal("51.05"), longitude=None)
    with pytest.raises(ValidationError):
        organisation.full_clean()
    organisation.latitude = Decimal("95")
    organisation.longitude = Decimal("13")
    with pytest.raises(ValidationError):
        organisation.full_clean()


def test_the_founding_data_places_its_organisations(founding_data, client):
    placed = Organisation.objects.exclude(latitude=None)
    assert placed.count() == Organisation.objects.count() == 5
    assert all(o.coordinates_source for o in placed)
    sa_am = Organisation.objects.get(slug="sa-am")
    assert (sa_am.latitude, sa_am.longitude) == (Decimal("50.26"), Decimal("19.02"))
    page = body(client.get("/en/map/"))
    assert svg_elements(page)[0].count("<line ") == 2  # AMZ with SA&AM, Silicon Saxony with SoDA
    assert "Not on the map" not in page
    data = api_statistics(client)
    assert [(row["countries"], row["agreements"]) for row in data["by_country_pair"]] == [(["DE", "PL"], 2)]


# --------------------------------------------------------------------------
# Queries: the same number whatever the data size


def grow(n: int) -> None:
    topics = [TopicFactory() for _ in range(3)]
    for index in range(n):
        first = OrganisationFactory(country="DE", latitude=Decimal("51"), longitude=Decimal("13"))
        second = OrganisationFactory(country=["PL", "CZ", "FR"][index % 3], kind="association")
        AgreementFactory(
            signed=True,
            parties=[first, second],
            topics=topics[: 1 + index % 3],
            signed_on=datetime.date(2015 + index % 8, 1, 1),
            kind=["cooperation_agreement", "letter_of_intent"][index % 2],
        )


def fresh_get(client, url):
    from django.core.cache import cache

    cache.clear()  # the page itself, not its cached copy
    response = client.get(url)
    assert response.status_code == 200, url
    body(response)


URLS = [
    "/en/statistics/",
    "/en/statistics/?country=PL&topic={topic}",
    "/en/statistics/by-country-pair.csv",
    "/en/map/",
    "/en/map/?party={party}",
    "/en/map/links.csv",
    "/en/organisations/{party}/",
    "/api/v1/statistics/",
    "/api/v1/statistics/?country=PL",
]


@pytest.mark.parametrize("url", URLS)
def test_queries_are_constant_whatever_the_data_size(client, url, django_assert_num_queries):
    from agreements.models import Topic

    grow(2)
    party = Organisation.objects.order_by("pk").first().slug
    url = url.format(party=party, topic=Topic.objects.order_by("pk").first().slug)
    fresh_get(client, url)  # the first request of a client may set up what later ones reuse
    with CaptureQueriesContext(connection) as small:
        fresh_get(client, url)
    grow(25)
    with django_assert_num_queries(len(small.captured_queries)):
        fresh_get(client, url)
