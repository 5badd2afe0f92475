"""Public pages. They show what the public may see: the anonymous case of the
shared visibility rule (``Viewer()``), whoever is logged in."""

import csv
import functools
import hashlib
import io
import json

from django.core.cache import cache
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _
from django_countries import countries

from . import charts, facets, maps, services, statistics
from .access import PUBLIC, Viewer
from .choices import AgreementKind
from .filtersets import AgreementFilterSet
from .legal import render_body
from .listing import listed_agreements
from .models import (
    NEWEST_FIRST,
    Agreement,
    AgreementDocument,
    AgreementParty,
    DataVersion,
    DelegationTrip,
    LegalPage,
    Organisation,
    Person,
    ProgrammeItem,
    SigningEvent,
    Topic,
)

PAGE_SIZE = 20
CHOICES_CACHE_SECONDS = 3600
PAGE_CACHE_SECONDS = 3600
FILTER_PARAMETERS = ("q", "party", "country", "topic", "kind", "year", "trip", "status", "ordering")
ORDERINGS = [
    ("-signed_on", gettext_noop("newest first")),
    ("signed_on", gettext_noop("oldest first")),
    ("title", gettext_noop("title A–Z")),
]


def cached_page(view):
    """Serve a public page from the cache. Public pages are the same for every
    visitor (they show what the public may see, and hold no form token or
    session data), so each is rendered once per data version, day (``expired``
    is derived from it), language and address. Only 200 answers are kept."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in {"GET", "HEAD"}:
            return view(request, *args, **kwargs)
        address = hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()
        key = f"page:v1:{DataVersion.current()}:{timezone.localdate()}:{get_language()}:{address}"
        cached = cache.get(key)
        if cached is not None:
            headers, content = cached
            return HttpResponse(content, headers=headers)
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.streaming and not response.cookies:
            cache.set(key, (dict(response.headers), response.content), PAGE_CACHE_SECONDS)
        return response

    return wrapper


def published_agreements():
    return Agreement.objects.visible_to(PUBLIC)


def public_agreements_with_party():
    """Organisations that are a party to at least one published agreement."""
    return Exists(AgreementParty.objects.filter(organisation=OuterRef("pk"), agreement__in=published_agreements()))


def json_ld(data: dict) -> str:
    """schema.org data for a <script type="application/ld+json"> element, escaped for HTML."""
    text = json.dumps(data, ensure_ascii=False, default=str)
    # Safe to mark: all that could end the <script> element or start markup is escaped (bandit B308 reviewed).
    escaped = text.replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")
    return mark_safe(escaped)  # noqa: S308  # nosec B308 B703


def filtered_agreements(request):
    """The public list filtered by the query string (shared by the page and the downloads).

    Returns (queryset, errors); errors name the parameters that could not be used.
    """
    data = list_filters(request)
    filterset = AgreementFilterSet(data, queryset=published_agreements())
    if not filterset.is_valid():
        return Agreement.objects.none(), filterset.errors
    queryset = filterset.qs
    if not data.get("ordering") and not data.get("q"):
        queryset = queryset.order_by(*NEWEST_FIRST)
    return queryset, {}


def list_filters(request):
    """The list's filters in the request's query string (no other parameter)."""
    data = request.GET.copy()
    for name in list(data):
        if name not in FILTER_PARAMETERS:
            data.pop(name)
    return data


@cached_page
def agreement_list(request):
    queryset, errors = filtered_agreements(request)
    # The page's ids first (the partial indexes serve the order), then the table's rows.
    paginator = Paginator(queryset.values_list("pk", flat=True), PAGE_SIZE)
    page = None
    if not errors:
        try:
            page = paginator.page(request.GET.get("page", 1))
        except (PageNotAnInteger, EmptyPage):
            errors = {"page": [_("There is no such page of results.")]}
    # Every name present (empty when unused): a missing key costs the template
    # a slow failed lookup for each of hundreds of <option>s.
    selected = {name: request.GET.getlist(name) for name in FILTER_PARAMETERS}
    active = {name: values for name, values in selected.items() if any(values)}
    context = {
        "page": page,
        "agreements": listed_agreements(page.object_list) if page else [],
        "errors": errors,
        "active": active,
        "selected": selected,
        "query_without_page": _query_without(request, "page"),
        # The filter block (over a thousand <option>s with their counts) is
        # rendered once per state of the data, day, language and filters
        # ({% cache %} keyed by ``filter_block``); its choices and counts are
        # read only when it is rendered.
        "filter_block": _filter_block_key(selected, errors),
        "choices": SimpleLazyObject(_filter_choices),
        "kinds": AgreementKind.choices,
        "statuses": facets.PUBLIC_STATUSES,
        "facets": {} if errors else SimpleLazyObject(lambda: facets.facet_counts(list_filters(request))),
        "orderings": [(value, _(label)) for value, label in ORDERINGS],
    }
    return render(request, "agreements/agreement_list.html", context, status=400 if errors else 200)


def _filter_block_key(selected: dict, errors: dict) -> str:
    state = repr((sorted(selected.items()), bool(errors)))
    digest = hashlib.sha256(state.encode()).hexdigest()
    return f"{DataVersion.current()}:{timezone.localdate()}:{get_language()}:{digest}"


def _filter_choices() -> dict:
    """The list page's filter choices: the organisations, countries, topics,
    trips and years that published agreements have. Scanning for them costs
    more than the rest of the page, so they are cached, keyed by the data's
    version and the language."""
    key = f"list-choices:v4:{get_language()}:{DataVersion.current()}"
    choices = cache.get(key)
    if choices is None:
        published = published_agreements()
        organisations = Organisation.objects.filter(public_agreements_with_party()).order_by("name")
        topics = Topic.objects.filter(Exists(published.filter(topics=OuterRef("pk")))).order_by("slug")
        trips = DelegationTrip.objects.filter(Exists(published.filter(signing_event__trip=OuterRef("pk"))))
        # (value, label) pairs in the active language: cheap to cache and to render.
        choices = {
            "organisations": [
                (o.slug, f"{o.name} ({o.short_name})" if o.short_name else o.name) for o in organisations
            ],
            "countries": _party_countries(),
            "topics": [(topic.slug, topic.name) for topic in topics],
            "trips": [(trip.slug, trip.title) for trip in trips],
            "years": [(str(year), str(year)) for year in _signing_years()],
        }
        cache.set(key, choices, CHOICES_CACHE_SECONDS)
    return choices


def _query_without(request, name):
    query = request.GET.copy()
    query.pop(name, None)
    return query.urlencode()


def _party_countries():
    # order_by(): DISTINCT would otherwise include Meta.ordering's name and list a country once per organisation.
    parties = Organisation.objects.filter(public_agreements_with_party()).order_by()
    codes = parties.values_list("country", flat=True).distinct()
    return sorted(((code, countries.name(code)) for code in codes), key=lambda item: item[1])


def _signing_years():
    dates = published_agreements().filter(signed_date__isnull=False).dates("signed_date", "year", order="DESC")
    return [d.year for d in dates]


@cached_page
def agreement_detail(request, slug):
    agreement = get_object_or_404(published_agreements().with_related(PUBLIC), slug=slug)
    data = {
        "@context": "https://schema.org",
        "@type": "CreativeWork",
        "name": agreement.title,
        "description": agreement.summary,
        "dateCreated": agreement.signed_on_iso or None,
        "url": request.build_absolute_uri(agreement.get_absolute_url()),
        "inLanguage": agreement.language,
        "about": [topic.name for topic in agreement.topics.all()],
        "contributor": [_organisation_ld(request, p.organisation) for p in agreement.parties.all()],
    }
    chain = [a for a in agreement.chain() if a.is_published]
    word = services.agreement_confirmations(agreement)["parties"]
    confirmations = [{**entry, "text": services.confirmation_state_text(entry)} for entry in word]
    return render(
        request,
        "agreements/agreement_detail.html",
        {
            "agreement": agreement,
            "confirmations": confirmations if any(entry["confirmation"] for entry in word) else [],
            "confirmed": [entry["organisation"].display_name for entry in word if entry["state"] == "confirmed"],
            "chain": chain if len(chain) > 1 else [],
            "json_ld": json_ld(data),
        },
    )


def _organisation_ld(request, organisation):
    data = {
        "@type": "Organization",
        "name": organisation.name,
        "url": request.build_absolute_uri(organisation.get_absolute_url()),
        "address": {"@type": "PostalAddress", "addressCountry": organisation.country.code},
    }
    if organisation.short_name:
        data["alternateName"] = organisation.short_name
    if organisation.website:
        data["sameAs"] = organisation.website
    return data


@cached_page
def organisation_list(request):
    organisations = Organisation.objects.annotate(
        published_count=Count("agreement_parties", filter=Q(agreement_parties__agreement__in=published_agreements()))
    ).order_by("name")
    return render(request, "agreements/organisation_list.html", {"organisations": organisations})


@cached_page
def organisation_detail(request, slug):
    organisation = get_object_or_404(Organisation.objects.select_related("parent"), slug=slug)
    its_agreements = published_agreements().filter(
        Exists(AgreementParty.objects.filter(agreement=OuterRef("pk"), organisation=organisation))
    )
    page = _page(request, its_agreements.order_by(*NEWEST_FIRST).values_list("pk", flat=True))
    partners = list(
        Organisation.objects.filter(
            Exists(AgreementParty.objects.filter(organisation=OuterRef("pk"), agreement__in=its_agreements))
        )
        .exclude(pk=organisation.pk)
        .annotate(shared=Count("agreement_parties", filter=Q(agreement_parties__agreement__in=its_agreements)))
        .order_by("name")
    )
    partner_map = None
    if partners and any(maps.placed(o) for o in [organisation, *partners]):
        partner_links = [maps.Link(organisation, partner, partner.shared) for partner in partners]
        title = _("Map of %(name)s and its partners") % {"name": organisation.display_name}
        partner_map = maps.map_svg("partner-map", title, [organisation, *partners], partner_links, zoom=True)
    data = {
        "@context": "https://schema.org",
        **_organisation_ld(request, organisation),
        "description": organisation.description,
    }
    if organisation.parent:
        data["parentOrganization"] = _organisation_ld(request, organisation.parent)
    return render(
        request,
        "agreements/organisation_detail.html",
        {
            "organisation": organisation,
            "page": page,
            "agreements": listed_agreements(page.object_list),
            "query_without_page": _query_without(request, "page"),
            "partners": partners,
            "partner_map": partner_map,
            "unplaced": maps.unplaced_note([organisation, *partners]) if partner_map else "",
            "json_ld": json_ld(data),
        },
    )


def _page(request, queryset):
    """A page of ``queryset`` (20 rows); a page number that can't be used gives the first page."""
    paginator = Paginator(queryset, PAGE_SIZE)
    try:
        return paginator.page(request.GET.get("page", 1))
    except (PageNotAnInteger, EmptyPage):
        return paginator.page(1)


@cached_page
def trip_list(request):
    trips = DelegationTrip.objects.select_related("organiser").prefetch_related("stops").order_by("-start_date")
    return render(request, "agreements/trip_list.html", {"trips": trips})


def _trip_queryset():
    return DelegationTrip.objects.select_related("organiser", "leader").prefetch_related(
        "stops",
        "participant_organisations",
        Prefetch("programme_items", queryset=ProgrammeItem.objects.select_related("signing_event", "part_of")),
        Prefetch(
            "signing_events",
            queryset=SigningEvent.objects.prefetch_related(
                Prefetch("agreements", queryset=published_agreements(), to_attr="published_agreements")
            ),
        ),
    )


@cached_page
def trip_detail(request, slug):
    trip = get_object_or_404(_trip_queryset(), slug=slug)
    leader = trip.leader if trip.leader and trip.leader.is_public else None
    url = request.build_absolute_uri(trip.get_absolute_url())
    data = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": trip.title,
        "description": trip.purpose,
        "startDate": trip.start_date,
        "endDate": trip.end_date,
        "url": url,
        "location": [
            {
                "@type": "Place",
                "name": stop.city,
                "address": {
                    "@type": "PostalAddress",
                    "addressLocality": stop.city,
                    "addressCountry": trip.destination_country.code,
                },
            }
            for stop in trip.stops.all()
        ],
        "organizer": _organisation_ld(request, trip.organiser) if trip.organiser else None,
        "subEvent": [
            {
                "@type": "Event",
                "name": item.title,
                "startDate": item.date,
                "description": item.description,
                "location": {"@type": "Place", "name": item.venue or item.city},
                "superEvent": {"@type": "Event", "name": trip.title, "url": url},
            }
            for item in trip.programme_items.all()
        ],
    }
    return render(
        request,
        "agreements/trip_detail.html",
        {
            "trip": trip,
            "leader": leader,
            "programme": trip.programme_items.all(),
            "json_ld": json_ld({k: v for k, v in data.items() if v is not None}),
        },
    )


@cached_page
def signing_event_detail(request, slug):
    event = get_object_or_404(
        SigningEvent.objects.select_related("trip").prefetch_related(
            Prefetch(
                "agreements",
                queryset=published_agreements().only("pk", "signing_event_id"),
                to_attr="published_agreements",
            ),
            Prefetch("people_present", queryset=Person.objects.visible_to(PUBLIC), to_attr="public_people"),
        ),
        slug=slug,
    )
    data = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": event.title,
        "description": event.description,
        "startDate": event.date if event.date_precision == "day" else event.date_display,
        "url": request.build_absolute_uri(event.get_absolute_url()),
        "location": {
            "@type": "Place",
            "name": event.venue or event.city,
            "address": {"@type": "PostalAddress", "addressLocality": event.city, "addressCountry": event.country.code},
        },
    }
    if event.trip:
        data["superEvent"] = {
            "@type": "Event",
            "name": event.trip.title,
            "url": request.build_absolute_uri(event.trip.get_absolute_url()),
        }
    context = {
        "event": event,
        "agreements": listed_agreements([agreement.pk for agreement in event.published_agreements]),
        "json_ld": json_ld(data),
    }
    return render(request, "agreements/signingevent_detail.html", context)


@cached_page
def topic_list(request):
    topics = (
        Topic.objects.annotate(published_count=Count("agreements", filter=Q(agreements__in=published_agreements())))
        .filter(published_count__gt=0)
        .order_by("slug")
    )
    return render(request, "agreements/topic_list.html", {"topics": topics})


@cached_page
def topic_detail(request, slug):
    topic = get_object_or_404(Topic, slug=slug)
    page = _page(
        request, published_agreements().filter(topics=topic).order_by(*NEWEST_FIRST).values_list("pk", flat=True)
    )
    context = {
        "topic": topic,
        "page": page,
        "agreements": listed_agreements(page.object_list),
        "query_without_page": _query_without(request, "page"),
    }
    return render(request, "agreements/topic_detail.html", context)


def _filter_query(request) -> str:
    """The list's filters of this request (not its page or ordering), as a query string."""
    query = request.GET.copy()
    for name in list(query):
        if name not in FILTER_PARAMETERS or name == "ordering":
            query.pop(name)
    return query.urlencode()


def _csv_response(filename: str, columns: list[str], rows) -> HttpResponse:
    out = io.StringIO()
    out.write("\ufeff")  # a byte-order mark, so spreadsheet programs read UTF-8
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(rows)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _filter_errors(errors) -> JsonResponse:
    return JsonResponse({"error": _("Some filters could not be used."), "parameters": errors}, status=400)


@cached_page
def statistics_page(request):
    """Statistics of the published agreements the list's filters select: a
    chart and a table per view of them, each table also as a CSV file."""
    queryset, errors = filtered_agreements(request)
    query = _filter_query(request)
    sections, total = [], 0
    if not errors:
        data = statistics.compute(queryset)
        total = data["total"]
        for table in statistics.tables(data):
            chart = charts.bar_chart(f"chart-{table.slug}", table.title, table.chart_rows)
            sections.append({"table": table, "chart": chart})
    context = {"sections": sections, "total": total, "errors": errors, "query": query}
    return render(request, "agreements/statistics.html", context, status=400 if errors else 200)


@cached_page
def statistics_csv(request, table):
    if table not in statistics.TABLES:
        raise Http404("No such table.")
    queryset, errors = filtered_agreements(request)
    if errors:
        return _filter_errors(errors)
    chosen = next(t for t in statistics.tables(statistics.compute(queryset)) if t.slug == table)
    return _csv_response(f"statistics-{table}.csv", chosen.columns, chosen.rows)


@cached_page
def agreement_map(request):
    """Where the parties of the published agreements the list's filters select
    are, and a line for each pair of them that signed together."""
    queryset, errors = filtered_agreements(request)
    links, organisations = ([], []) if errors else maps.links(queryset)
    shown = links[: maps.MAX_LINKS]
    context = {
        "errors": errors,
        "query": _filter_query(request),
        "links": shown,
        "link_count": len(links),
        "organisations": organisations,
        "map": maps.map_svg("agreement-map", _("Map of the partners and their agreements"), organisations, shown),
        "unplaced": maps.unplaced_note(organisations),
    }
    return render(request, "agreements/agreement_map.html", context, status=400 if errors else 200)


@cached_page
def map_links_csv(request):
    queryset, errors = filtered_agreements(request)
    if errors:
        return _filter_errors(errors)
    links, _organisations = maps.links(queryset)
    columns = [_("Organisation"), _("Country"), _("Organisation"), _("Country"), _("Agreements")]
    rows = [
        (link.first.name, link.first.country.code, link.second.name, link.second.country.code, link.agreements)
        for link in links
    ]
    return _csv_response("map-links.csv", columns, rows)


@cached_page
def legal_page(request, kind):
    """The legal notice, privacy notice or accessibility statement (``kind`` comes from the URL)."""
    page = get_object_or_404(LegalPage.objects.visible_to(PUBLIC), kind=kind)
    return render(request, "agreements/legalpage_detail.html", {"page": page, "body": render_body(page.body)})


def document_file_response(document: AgreementDocument) -> FileResponse:
    """The stored file of a document the caller was found to be allowed to see."""
    try:
        handle = document.file.open("rb")
    except (OSError, ValueError):
        # The row is there but storage lost the file: a 404, not a 500.
        raise Http404("The file of this document is not available.") from None
    response = FileResponse(handle, content_type=document.content_type, filename=document.download_name)
    public = document.is_public and AgreementDocument.objects.visible_to(PUBLIC).filter(pk=document.pk).exists()
    # Never let a shared cache keep a document that only some callers may read.
    response["Cache-Control"] = "public, max-age=3600" if public else "private, no-store"
    return response


def document_download(request, pk):
    """A document's file, served only to a caller the visibility rule lets see
    it (the public, or a logged-in member or registry admin); otherwise 404,
    exactly as for a document that does not exist. Files are never reachable
    at a storage URL."""
    viewer = Viewer.for_request(request)
    document = get_object_or_404(AgreementDocument.objects.visible_to(viewer), pk=pk)
    return document_file_response(document)
