"""Set-up for the benchmark's write scenarios, run in-process with the
product's settings by bench/runner.py (``DJANGO_SETTINGS_MODULE`` set):
``writes.py setup <receiver URL>`` makes a staff writer (a registry
administrator) with an API token, picks the published agreements it will
edit (those of the organisation that is a party to most of them), and
registers a webhook endpoint of that organisation posting to the receiver,
its cursor at the feed's end (no old entries). Prints JSON: token, slugs,
organisation. (The runner turns the change feed's triggers off and on
itself, with ``ALTER TABLE … DISABLE/ENABLE TRIGGER``.)
"""

import json
import sys

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db.models import Count, Max  # noqa: E402

from agreements.models import Agreement, Change, Organisation, WebhookEndpoint  # noqa: E402
from agreements.services import token_create  # noqa: E402

WRITER = "bench-writer"


def setup(receiver: str) -> dict:
    user, _ = get_user_model().objects.get_or_create(
        username=WRITER, defaults={"is_staff": True, "is_superuser": True, "email": "bench@example.org"}
    )
    _token, key = token_create(name="bench writes", user=user)
    organisation = (
        Organisation.objects.filter(agreement_parties__agreement__in=Agreement.objects.published())
        .annotate(n=Count("agreement_parties"))
        .order_by("-n", "slug")
        .first()
    )
    slugs = list(
        Agreement.objects.published()
        .filter(parties__organisation=organisation)
        .order_by("-id")
        .values_list("slug", flat=True)[:200]
    )
    WebhookEndpoint.objects.filter(description="bench").delete()
    WebhookEndpoint.objects.create(
        organisation=organisation,
        url=receiver,
        description="bench",
        cursor=Change.objects.aggregate(last=Max("pk"))["last"] or 0,
    )
    return {"token": key, "slugs": slugs, "organisation": organisation.slug}


if __name__ == "__main__":
    if sys.argv[1:2] != ["setup"] or len(sys.argv) != 3:
        raise SystemExit("usage: writes.py setup <receiver URL>")
    json.dump(setup(sys.argv[2]), sys.stdout)
