"""The public list's facet counts: next to each value of each filter, how many
agreements the list would show with that value.

Each facet is counted on the list filtered by every *other* filter of the
request (its own left out): the filters are single choices, so the count says
what choosing that value instead would give; with the facet unfiltered it is
the count within the current list. One grouped query per facet, whatever the
number of agreements or values, kept in the cache per data version, day
("expired" and "in force" move with the date) and filter state.
"""

import hashlib

from django.core.cache import cache
from django.db.models import Count
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .access import PUBLIC
from .choices import AgreementStatus
from .filtersets import EXPIRED, IN_FORCE, AgreementFilterSet, status_condition, without_empty
from .models import Agreement, AgreementParty, DataVersion

CACHE_SECONDS = 3600
# The list's filters that have facets, and what does not change a count.
FACETS = ("party", "country", "topic", "kind", "year", "trip", "status")
NOT_COUNTED = {"ordering", "page"}
# The statuses the public list offers (what the public sees is signed or terminated).
PUBLIC_STATUSES = [
    (IN_FORCE, _("In force")),
    (AgreementStatus.TERMINATED.value, AgreementStatus.TERMINATED.label),
    (EXPIRED, _("Expired")),
]


def facet_counts(data: QueryDict) -> dict[str, dict[str, int]]:
    """``{facet: {value: count}}`` for the list filtered by ``data`` (valid filters)."""
    data = without_empty(data)
    state = sorted((name, sorted(data.getlist(name))) for name in data if name not in NOT_COUNTED)
    digest = hashlib.sha256(repr(state).encode()).hexdigest()
    today = timezone.localdate()
    key = f"list-facets:v1:{DataVersion.current()}:{today}:{digest}"
    counts = cache.get(key)
    if counts is None:
        counts = {facet: _count(facet, _filtered_without(data, facet), today) for facet in FACETS}
        cache.set(key, counts, CACHE_SECONDS)
    return counts


def _filtered_without(data: QueryDict, facet: str):
    others = data.copy()
    others.pop(facet, None)
    others.pop("ordering", None)
    filterset = AgreementFilterSet(others, queryset=Agreement.objects.visible_to(PUBLIC))
    filterset.is_valid()  # the list validated the same filters; each part of a valid set is valid
    # The matching rows as a subquery: grouping on it is unaffected by what a filter annotates or orders.
    return Agreement.objects.filter(pk__in=filterset.qs.order_by().values("pk")).order_by()


def _grouped(queryset, field: str) -> dict[str, int]:
    # Each row is one agreement (or one agreement's party or topic, never twice): no DISTINCT needed.
    rows = queryset.values_list(field).annotate(n=Count("pk")).order_by()
    return {str(value): n for value, n in rows if value is not None}


def _count(facet: str, matching, today) -> dict[str, int]:
    if facet == "party":
        return _grouped(AgreementParty.objects.filter(agreement__in=matching), "organisation__slug")
    if facet == "country":
        parties = AgreementParty.objects.filter(agreement__in=matching)
        rows = parties.values_list("organisation__country").annotate(n=Count("agreement", distinct=True)).order_by()
        return {str(value): n for value, n in rows if value}
    if facet == "topic":
        return _grouped(Agreement.topics.through.objects.filter(agreement__in=matching), "topic__slug")
    if facet == "kind":
        return _grouped(matching, "kind")
    if facet == "year":
        return _grouped(matching, "signed_date__year")
    if facet == "trip":
        return _grouped(matching, "signing_event__trip__slug")
    statuses = {value: Count("pk", filter=status_condition(value, today)) for value, _label in PUBLIC_STATUSES}
    return matching.aggregate(**statuses)
