"""Open data: the public list (filtered as on the page) as CSV and JSON,
streamed in chunks so memory stays flat however many rows there are."""

import csv
import json

from django.http import JsonResponse, StreamingHttpResponse
from django.utils.translation import gettext as _

from .choices import DatePrecision
from .views import filtered_agreements

CHUNK = 500
COLUMNS = [
    "slug",
    "title",
    "kind",
    "status",
    "signed_date",
    "signed_date_precision",
    "signed_on",
    "signed_on_precision",
    "parties",
    "countries",
    "topics",
    "signing_event",
    "valid_from",
    "valid_until",
    "url",
]


def _rows(request, queryset):
    for agreement in queryset.iterator(chunk_size=CHUNK):
        parties = [party.organisation for party in agreement.parties.all()]
        yield {
            "slug": agreement.slug,
            "title": agreement.title,
            "kind": agreement.kind,
            "status": agreement.display_status,
            # Dates with only what is known: 2026-03 for "March 2026" (ISO 8601's reduced form).
            "signed_date": agreement.signed_on_iso,
            "signed_date_precision": agreement.signed_date_precision,
            "signed_on": DatePrecision(agreement.signed_on_precision).iso(agreement.signed_on),
            "signed_on_precision": agreement.signed_on_precision,
            "parties": [o.name for o in parties],
            "countries": sorted({o.country.code for o in parties}),
            "topics": [topic.slug for topic in agreement.topics.all()],
            "signing_event": agreement.signing_event.slug if agreement.signing_event_id else "",
            "valid_from": agreement.valid_from.isoformat() if agreement.valid_from else "",
            "valid_until": agreement.valid_until.isoformat() if agreement.valid_until else "",
            "url": request.build_absolute_uri(agreement.get_absolute_url()),
        }


def _checked(request):
    """The filtered public list with its SQL built (not run) before the first
    byte is sent, so a parameter that cannot be used is a 400, never a 200
    whose body ends early."""
    queryset, errors = filtered_agreements(request)
    if not errors:
        queryset = queryset.for_listing()
        queryset.query.get_compiler(using=queryset.db).as_sql()
    return queryset, errors


def _bad_request(errors):
    return JsonResponse({"error": _("Some filters could not be used."), "parameters": errors}, status=400)


class _Echo:
    def write(self, value):
        return value


def agreements_csv(request):
    queryset, errors = _checked(request)
    if errors:
        return _bad_request(errors)
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"  # a byte-order mark, so spreadsheet programs read UTF-8
        yield writer.writerow(COLUMNS)
        for row in _rows(request, queryset):
            yield writer.writerow([" | ".join(v) if isinstance(v, list) else v for v in row.values()])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="agreements.csv"'
    return response


def agreements_json(request):
    queryset, errors = _checked(request)
    if errors:
        return _bad_request(errors)

    def chunks():
        yield "["
        for index, row in enumerate(_rows(request, queryset)):
            yield ("," if index else "") + json.dumps(row, ensure_ascii=False)
        yield "]"

    response = StreamingHttpResponse(chunks(), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="agreements.json"'
    return response
