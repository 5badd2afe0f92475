"""What the record does not know is not shown as known: an end that no source
states is "not stated", never "indefinite"; a date known to the month is
exported as a month."""

import datetime
import json
import re

import pytest
from django.db import IntegrityError, transaction

from agreements.models import Agreement

from .factories import AgreementFactory

pytestmark = pytest.mark.django_db


def validity(page: str) -> str:
    """The text of the page's validity entry (the <dd> after "Valid"/"Gültig"/…)."""
    match = re.search(r"<dt>(?:Valid|Gültig|Obowiązuje)</dt><dd>(.*?)</dd>", page, re.S)
    assert match, "the page shows the validity"
    return match.group(1).strip()


@pytest.mark.parametrize(
    ("prefix", "not_stated", "indefinite"),
    [("", "Ende nicht angegeben", "unbefristet"), ("/en", "end not stated", "indefinitely")],
)
def test_the_founding_agreements_do_not_claim_an_indefinite_term(founding_data, client, prefix, not_stated, indefinite):
    for agreement in Agreement.objects.all():
        shown = validity(client.get(f"{prefix}/agreements/{agreement.slug}/").content.decode())
        assert shown == not_stated
        assert indefinite not in shown


def test_a_stated_indefinite_term_is_shown_as_such(client):
    agreement = AgreementFactory(signed=True, indefinite=True)

    assert validity(client.get(f"/en/agreements/{agreement.slug}/").content.decode()) == "indefinitely"


def test_an_end_date_is_shown(client):
    agreement = AgreementFactory(signed=True, valid_until=datetime.date(2030, 6, 30))

    assert validity(client.get(f"/en/agreements/{agreement.slug}/").content.decode()) == "until June 30, 2030"


def test_indefinite_and_an_end_date_contradict_each_other_in_the_database():
    agreement = AgreementFactory(signed=True, indefinite=True)

    with pytest.raises(IntegrityError), transaction.atomic():
        Agreement.objects.filter(pk=agreement.pk).update(valid_until=datetime.date(2030, 1, 1))


def test_the_api_tells_indefinite_from_not_stated(cast, role_clients):
    data = role_clients["anonymous"].get("/api/v1/agreements/public-a/").json()
    assert (data["valid_until"], data["indefinite"]) == (None, False)

    response = role_clients["registry_admin"].patch(
        "/api/v1/agreements/public-a/",
        json.dumps({"indefinite": True, "valid_until": "2030-01-01"}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "indefinite duration" in json.dumps(response.json())


@pytest.mark.parametrize(
    ("signed_on", "precision", "expected"),
    [("2026-03-17", "day", "2026-03-17"), ("2026-03-01", "month", "2026-03"), ("2026-01-01", "year", "2026")],
)
def test_json_ld_gives_a_date_with_its_precision(client, signed_on, precision, expected):
    agreement = AgreementFactory(
        signed=True, signed_on=datetime.date.fromisoformat(signed_on), signed_on_precision=precision
    )

    page = client.get(f"/en/agreements/{agreement.slug}/").content.decode()

    assert f'"dateCreated": "{expected}"' in page
