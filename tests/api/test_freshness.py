"""One source of freshness: any committed write (ORM, bulk update, raw SQL)
changes every API answer that shows it, details included; If-Match still
refuses only changes of the record itself."""

import json

import pytest
from django.db import connection

from agreements.models import Organisation, Person, Topic

pytestmark = pytest.mark.django_db


def read(client, url, etag=None):
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    return client.get(url, **headers)


def rename_organisation():
    Organisation.objects.filter(slug="org-a").update(name="Renamed A")


def rename_topic():
    Topic.objects.filter(slug="software").update(name_en="Code")


def rename_person():
    Person.objects.filter(slug="minister").update(name="New Minister")


@pytest.mark.parametrize(
    ("url", "write", "shown"),
    [
        ("/api/v1/organisations/org-a/", rename_organisation, "Renamed A"),
        ("/api/v1/agreements/public-a/", rename_organisation, "Renamed A"),
        ("/api/v1/agreements/public-a/", rename_topic, "Code"),
        ("/api/v1/agreements/public-a/", rename_person, "New Minister"),
    ],
)
def test_a_bulk_update_changes_the_details_that_show_it(cast, role_clients, url, write, shown):
    client = role_clients["anonymous"]
    first = read(client, url)
    assert first.status_code == 200

    write()

    again = read(client, url, first["ETag"])
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    assert shown in again.content.decode()


def test_a_raw_sql_write_changes_a_detail(cast, role_clients):
    client, url = role_clients["anonymous"], "/api/v1/organisations/org-a/"
    first = read(client, url)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE agreements_organisation SET city = 'Görlitz' WHERE slug = 'org-a'")

    again = read(client, url, first["ETag"])

    assert again.status_code == 200 and again.json()["city"] == "Görlitz"


def test_an_unchanged_detail_is_still_a_304(cast, role_clients):
    client, url = role_clients["anonymous"], "/api/v1/agreements/public-a/"
    first = read(client, url)

    assert read(client, url, first["ETag"]).status_code == 304


def test_if_match_refuses_only_changes_of_the_record_itself(cast, role_clients):
    client, url = role_clients["editor_a"], "/api/v1/agreements/hidden-a/"
    etag = client.get(url)["ETag"]
    Topic.objects.filter(slug="software").update(name_en="Code")  # another record changed meanwhile

    ok = client.patch(url, json.dumps({"title_en": "Mine"}), content_type="application/json", HTTP_IF_MATCH=etag)
    assert ok.status_code == 200, ok.json()
    stale = client.post(url + "negotiate/", content_type="application/json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    fresh = client.post(url + "negotiate/", content_type="application/json", HTTP_IF_MATCH=client.get(url)["ETag"])
    assert fresh.status_code == 200
