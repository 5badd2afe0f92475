"""Agreement answers built from rows: the API's list and detail read the
columns they show and the related rows in one batched query each (five
whatever the page size), and build plain dicts, with no model instances and no
DRF field machinery (which cost ~50 ms a page of 50).

``serializers.AgreementSerializer`` stays the contract: the OpenAPI schema is
generated from it, writes answer with it, and the tests compare the two
answers for every caller and language (tests/api/test_rows.py). The rules are
the model's own, not copies: visibility (``access`` through ``visible_to``),
publication (``PUBLISHED``), expiry (``expired_on``), translations
(``pick_translation``) and dates (DRF's fields and ``DatePrecision``).
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from urllib.parse import quote

from django.db.models import BooleanField, ExpressionWrapper, F
from django.urls import get_script_prefix
from django.urls import reverse as django_reverse
from django.utils import timezone
from django.utils.translation import get_language
from rest_framework import serializers as drf

from agreements.access import Viewer
from agreements.choices import DatePrecision, TextLanguage
from agreements.models import (
    PUBLISHED,
    Agreement,
    AgreementDocument,
    AgreementParty,
    AgreementSource,
    Person,
    Signatory,
    expired_on,
)
from agreements.models.base import pick_translation

from .serializers import _PLACEHOLDERS, _route, absolute

LANGUAGES = tuple(TextLanguage.values)
_DATE = drf.DateField()


def _date(value):
    return None if value is None else _DATE.to_representation(value)


def _datetimes() -> Callable:
    """DRF's ``DateTimeField`` output (ISO 8601 in the current time zone, "Z"
    for UTC) with the time zone read once for a whole answer."""
    zone = timezone.get_current_timezone()

    def represent(value):
        if value is None:
            return None
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return represent


def _translated(name: str, prefix: str = "") -> list[str]:
    return [f"{prefix}{name}_{language}" for language in LANGUAGES]


def _texts() -> Callable:
    """``row``'s text ``name`` by the models' fallback rule (active language,
    original, any), with the active language read once for a whole answer."""
    active = (get_language() or LANGUAGES[0]).split("-")[0]

    def text(row: dict, name: str, prefix: str = "", original: str | None = None) -> str:
        original = row[f"{prefix}language"] if original is None else original
        return str(pick_translation(lambda language: row[f"{prefix}{name}_{language}"], original, LANGUAGES, active))

    return text


def _signed_on_displays() -> Callable:
    """``Agreement.signed_on_display`` for a row, each date formatted once per answer."""
    seen = {}

    def display(precision: str, day) -> str:
        key = (precision, day)
        if key not in seen:
            seen[key] = DatePrecision(precision).format(day)
        return seen[key]

    return display


def _addresses(request, view_name: str, kwarg: str = "slug", kind: type = str) -> Callable[[object], str]:
    """``api_address`` with the route reversed once for a whole answer."""
    head, _, tail = _route(view_name, kwarg, kind, get_script_prefix()).partition(_PLACEHOLDERS[kind])
    head = absolute(request, head)
    return lambda value: f"{head}{quote(str(value), safe='')}{tail}"


def _grouped(rows: Iterable[dict]) -> dict[int, list[dict]]:
    groups = defaultdict(list)
    for row in rows:
        groups[row["agreement_id"]].append(row)
    return groups


AGREEMENT_COLUMNS = [
    "id",
    "slug",
    *_translated("title"),
    "kind",
    "status",
    *_translated("summary"),
    *_translated("objectives"),
    "language",
    "signed_date",
    "signed_date_precision",
    "signed_on",
    "signed_on_precision",
    "signing_event_id",
    "valid_from",
    "valid_until",
    "indefinite",
    "is_public",
    "published_at",
    "created_at",
    "updated_at",
]
EVENT_COLUMNS = {
    "event_slug": F("signing_event__slug"),
    **{f"event_title_{language}": F(f"signing_event__title_{language}") for language in LANGUAGES},
    "event_language": F("signing_event__language"),
    "event_date": F("signing_event__date"),
    "event_date_precision": F("signing_event__date_precision"),
    "event_city": F("signing_event__city"),
    "trip_slug": F("signing_event__trip__slug"),
    **{f"trip_title_{language}": F(f"signing_event__trip__title_{language}") for language in LANGUAGES},
    "trip_language": F("signing_event__trip__language"),
    "trip_start_date": F("signing_event__trip__start_date"),
    "trip_end_date": F("signing_event__trip__end_date"),
}


def agreement_answers(ids: list[int], *, viewer: Viewer, request) -> list[dict]:
    """The API's reading form of the agreements ``ids`` (in that order), as
    ``viewer`` may see them: what ``AgreementSerializer`` gives, from rows.
    The caller has checked that ``viewer`` may see each of them."""
    if not ids:
        return []
    rows = (
        Agreement.objects.filter(pk__in=ids)
        .order_by()
        .values(*AGREEMENT_COLUMNS, **EVENT_COLUMNS)
        .annotate(
            _published=ExpressionWrapper(PUBLISHED, output_field=BooleanField()),
            _expired=ExpressionWrapper(expired_on(timezone.localdate()), output_field=BooleanField()),
        )
    )
    topics = _grouped(
        Agreement.topics.through.objects.filter(agreement_id__in=ids)
        .order_by("agreement_id", "topic__slug")  # Topic's own order, as the prefetch gives it
        .values("agreement_id", slug=F("topic__slug"), language=F("topic__language"), **_columns("topic", "name"))
    )
    parties = _grouped(
        AgreementParty.objects.filter(agreement_id__in=ids)
        .order_by("agreement_id", "position", "id")
        .values(
            "agreement_id",
            "role",
            slug=F("organisation__slug"),
            name=F("organisation__name"),
            short_name=F("organisation__short_name"),
            country=F("organisation__country"),
        )
    )
    signatories = _grouped(
        Signatory.objects.filter(agreement_id__in=ids, person__in=Person.objects.visible_to(viewer))
        .order_by("agreement_id", "id")
        .values(
            "agreement_id",
            slug=F("person__slug"),
            name=F("person__name"),
            language=F("person__language"),
            organisation_slug=F("organisation__slug"),
            **_columns("person", "position"),
        )
    )
    documents = _grouped(
        AgreementDocument.objects.visible_to(viewer)
        .filter(agreement_id__in=ids)
        .order_by("agreement_id", "kind", "id")
        .values("agreement_id", "id", "title", "kind", "language", "is_public", "content_type", "size")
    )
    sources = _grouped(
        AgreementSource.objects.filter(agreement_id__in=ids)
        .order_by("agreement_id", "published_on", "id")
        .values("agreement_id", "kind", "title", "url", "publisher", "published_on")
    )

    agreement_url = _addresses(request, "api:agreement-detail")
    topic_url = _addresses(request, "api:topic-detail")
    organisation_url = _addresses(request, "api:organisation-detail")
    person_url = _addresses(request, "api:person-detail")
    event_url = _addresses(request, "api:signingevent-detail")
    trip_url = _addresses(request, "api:trip-detail")
    file_url = _addresses(request, "api:document-file", "pk", int)
    web_head, _, web_tail = django_reverse("agreements:agreement_detail", kwargs={"slug": "__key__"}).partition(
        "__key__"
    )
    web_head = absolute(request, web_head)
    _text, _datetime, signed_on_display = _texts(), _datetimes(), _signed_on_displays()

    answers = {}
    for row in rows:
        pk = row["id"]
        original = row["language"]
        event = None
        trip = None
        if row["signing_event_id"] is not None:
            event = {
                "slug": row["event_slug"],
                "title": _text(row, "title", "event_"),
                "date": _date(row["event_date"]),
                "date_precision": row["event_date_precision"],
                "city": row["event_city"],
                "url": event_url(row["event_slug"]),
            }
            if row["trip_slug"] is not None:
                trip = {
                    "slug": row["trip_slug"],
                    "title": _text(row, "title", "trip_"),
                    "start_date": _date(row["trip_start_date"]),
                    "end_date": _date(row["trip_end_date"]),
                    "url": trip_url(row["trip_slug"]),
                }
        answers[pk] = {
            "id": pk,
            "slug": row["slug"],
            "url": agreement_url(row["slug"]),
            "web_url": f"{web_head}{quote(row['slug'], safe='')}{web_tail}" if row["_published"] else None,
            "title": _text(row, "title", original=original),
            "kind": row["kind"],
            "status": row["status"],
            "expired": bool(row["_expired"]),
            "summary": _text(row, "summary", original=original),
            "objectives": _text(row, "objectives", original=original),
            "language": original,
            "topics": [
                {"slug": topic["slug"], "name": _text(topic, "name"), "url": topic_url(topic["slug"])}
                for topic in topics.get(pk, ())
            ],
            "parties": [
                {
                    "organisation": {
                        "slug": party["slug"],
                        "name": party["name"],
                        "short_name": party["short_name"],
                        "country": party["country"],
                        "url": organisation_url(party["slug"]),
                    },
                    "role": party["role"],
                }
                for party in parties.get(pk, ())
            ],
            "signatories": [
                {
                    "person": {
                        "slug": person["slug"],
                        "name": person["name"],
                        "position": _text(person, "position"),
                        "url": person_url(person["slug"]),
                    },
                    "organisation": person["organisation_slug"],
                }
                for person in signatories.get(pk, ())
            ],
            "signed_date": _date(row["signed_date"]),
            "signed_date_precision": row["signed_date_precision"],
            "signed_on": _date(row["signed_on"]),
            "signed_on_precision": row["signed_on_precision"],
            "signed_on_display": signed_on_display(row["signed_date_precision"], row["signed_date"]),
            "signing_event": event,
            "trip": trip,
            "valid_from": _date(row["valid_from"]),
            "valid_until": _date(row["valid_until"]),
            "indefinite": row["indefinite"],
            "documents": [
                {
                    "title": document["title"],
                    "kind": document["kind"],
                    "language": document["language"],
                    "is_public": document["is_public"],
                    "content_type": document["content_type"],
                    "size": document["size"],
                    "file_url": file_url(document["id"]),
                }
                for document in documents.get(pk, ())
            ],
            "sources": [
                {
                    "kind": source["kind"],
                    "title": source["title"],
                    "url": source["url"],
                    "publisher": source["publisher"],
                    "published_on": _date(source["published_on"]),
                }
                for source in sources.get(pk, ())
            ],
            "is_public": row["is_public"],
            "published_at": _datetime(row["published_at"]),
            "created_at": _datetime(row["created_at"]),
            "updated_at": _datetime(row["updated_at"]),
        }
    return [answers[pk] for pk in ids if pk in answers]


def _columns(relation: str, name: str) -> dict:
    return {f"{name}_{language}": F(f"{relation}__{name}_{language}") for language in LANGUAGES}
