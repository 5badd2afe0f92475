"""The public pages' tables of agreements, built from rows: the columns a
table shows (title, parties, signing date, kind, status badge) in two
queries whatever the number of rows, with no model instances (the API's
answers are built the same way: ``agreements.api.rows``).

Only agreements the public may see are passed here: callers select them
through ``published_agreements()`` (the access seam) first; the rows are
read for those ids and nothing else.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from django.db.models import BooleanField, ExpressionWrapper, F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language

from .choices import AgreementKind, DatePrecision, TextLanguage
from .models import Agreement, AgreementParty, expired_on
from .models.base import pick_translation

LANGUAGES = tuple(TextLanguage.values)


@dataclass(frozen=True)
class ListedParty:
    url: str
    name: str  # ``Organisation.display_name``: the short name where there is one
    country: str


@dataclass(frozen=True)
class ListedAgreement:
    pk: int
    url: str
    title: str  # a ``LocalizedText``: the page marks a fallback language
    status: str
    expired: bool
    parties: tuple[ListedParty, ...]
    signed_on_display: str
    kind_display: str


def _addresses(view_name: str):
    head, _, tail = reverse(view_name, kwargs={"slug": "__key__"}).partition("__key__")
    return lambda slug: f"{head}{quote(slug, safe='')}{tail}"


def listed_agreements(ids: Sequence[int]) -> list[ListedAgreement]:
    """The table rows for the agreements ``ids``, in that order."""
    ids = list(ids)
    if not ids:
        return []
    rows = (
        Agreement.objects.filter(pk__in=ids)
        .order_by()
        .values(
            "id",
            "slug",
            "language",
            "status",
            "kind",
            "signed_date",
            "signed_date_precision",
            *[f"title_{language}" for language in LANGUAGES],
        )
        .annotate(_expired=ExpressionWrapper(expired_on(timezone.localdate()), output_field=BooleanField()))
    )
    parties = defaultdict(list)
    party_rows = (
        AgreementParty.objects.filter(agreement_id__in=ids)
        .order_by("agreement_id", "position", "id")
        .values(
            "agreement_id",
            slug=F("organisation__slug"),
            name=F("organisation__name"),
            short_name=F("organisation__short_name"),
            country=F("organisation__country"),
        )
    )
    organisation_url = _addresses("agreements:organisation_detail")
    for party in party_rows:
        parties[party["agreement_id"]].append(
            ListedParty(organisation_url(party["slug"]), party["short_name"] or party["name"], party["country"])
        )

    agreement_url = _addresses("agreements:agreement_detail")
    active = (get_language() or LANGUAGES[0]).split("-")[0]
    kinds = {value: str(label) for value, label in AgreementKind.choices}
    listed = {}
    for row in rows:
        title = pick_translation(lambda language, row=row: row[f"title_{language}"], row["language"], LANGUAGES, active)
        listed[row["id"]] = ListedAgreement(
            pk=row["id"],
            url=agreement_url(row["slug"]),
            title=title,
            status=row["status"],
            expired=bool(row["_expired"]),
            parties=tuple(parties.get(row["id"], ())),
            signed_on_display=DatePrecision(row["signed_date_precision"]).format(row["signed_date"]),
            kind_display=kinds.get(row["kind"], row["kind"]),
        )
    return [listed[pk] for pk in ids if pk in listed]
