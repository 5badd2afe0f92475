"""Every answer right, or refused cleanly: a parameter that cannot be used is a
400 naming it, on the API, the pages and the downloads alike (never a 500,
never a 200 whose body ends early)."""

import json

import pytest

from .factories import AgreementFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

API_LISTS = ["agreements", "organisations", "people", "topics", "signing-events", "trips"]


@pytest.mark.parametrize("ordering", [",", "title,", ",title", "-title,,signed_on"])
@pytest.mark.parametrize("resource", API_LISTS)
def test_an_empty_ordering_item_is_a_400_on_every_api_list(cast, role_clients, resource, ordering):
    response = role_clients["anonymous"].get(f"/api/v1/{resource}/", {"ordering": ordering})

    assert response.status_code == 400
    assert "ordering" in response.json()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/agreements/", "Zwischen den Kommas fehlt eine Sortierung."),
        ("/", "Zwischen den Kommas fehlt eine Sortierung."),
        ("/en/agreements/", "An ordering is missing between the commas."),
        ("/pl/agreements/", "Między przecinkami brakuje kryterium sortowania."),
    ],
)
def test_an_empty_ordering_item_is_a_400_on_the_public_list(cast, client, url, message):
    response = client.get(url, {"ordering": "title,"})

    assert response.status_code == 400
    page = response.content.decode()
    assert "<strong>ordering</strong>" in page
    assert message in page


@pytest.mark.parametrize("download", ["/agreements.csv", "/agreements.json"])
@pytest.mark.parametrize("ordering", [",", "title,"])
def test_a_download_with_an_unusable_parameter_is_a_400_before_the_first_byte(cast, client, download, ordering):
    response = client.get(download, {"ordering": ordering})

    assert response.status_code == 400
    assert not response.streaming
    assert "ordering" in json.loads(response.content)["parameters"]


def test_a_download_with_good_parameters_is_complete(cast, client):
    response = client.get("/agreements.json", {"ordering": "-signed_on,title"})

    assert response.status_code == 200
    rows = json.loads(b"".join(response.streaming_content))
    assert [row["slug"] for row in rows] == ["public-a"]


def test_the_public_country_filter_lists_each_country_once(cast, client):
    # Four German organisations, each party to a published agreement.
    germans = [OrganisationFactory(country="DE") for _ in range(4)]
    AgreementFactory(signed=True, parties=germans[:2])
    AgreementFactory(signed=True, parties=germans[2:])

    page = client.get("/en/agreements/").content.decode()

    assert page.count('<option value="DE"') == 1


@pytest.mark.parametrize(
    ("url", "field", "value"),
    [
        ("/api/v1/agreements/public-a/", "is_public", 0),
        ("/api/v1/agreements/public-a/", "title_pl", 0),
        ("/api/v1/organisations/org-a/", "name", 12),
        ("/api/v1/topics/software/", "name_pl", 0),
        ("/api/v1/people/minister/", "is_public", "yes"),
    ],
)
def test_json_writes_are_typed_as_the_schema_says(cast, role_clients, url, field, value):
    before = role_clients["registry_admin"].get(url).json()

    response = role_clients["registry_admin"].patch(url, json.dumps({field: value}), content_type="application/json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    after = role_clients["registry_admin"].get(url).json()
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }


@pytest.mark.parametrize("year", ["2021.5", "1e3", "2021,5"])
def test_a_year_is_a_whole_number(cast, role_clients, year):
    response = role_clients["anonymous"].get("/api/v1/agreements/", {"year": year})

    assert response.status_code == 400
    assert "year" in response.json()


def test_the_schema_states_page_bounds_and_the_conflict_on_delete(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    listing = schema["paths"]["/api/v1/agreements/"]["get"]["parameters"]
    bounds = {p["name"]: p["schema"] for p in listing if p["name"] in {"page", "page_size"}}
    assert bounds == {
        "page": {"type": "integer", "minimum": 1},
        "page_size": {"type": "integer", "minimum": 1, "maximum": 200},
    }
    for resource in ("agreements", "organisations", "people", "topics"):
        assert "409" in schema["paths"][f"/api/v1/{resource}/{{slug}}/"]["delete"]["responses"]
