"""Who sees and who writes what: the one access seam.

Every door — public pages, downloads, the API, every admin view (history,
import/export, autocomplete, actions, list filters, the index) — asks here:

- ``Viewer.for_request(request)``: who is asking, resolved once per request;
- ``restrict(queryset, viewer, action)``: the rows of any registry model that
  viewer may ``"view"`` or ``"change"`` (the querysets' ``restrict()``,
  ``visible_to()`` and ``editable_by()`` are this function);
- ``may(viewer, action, obj)``: the same rule for one record.

A change needs the row rule here *and* the model permission (checked by the
admin's ``has_*_permission`` and the API's permission class); what one may
not see one may not change. Nothing here imports the web layer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from registry.second_factor import second_factor_satisfied

from .models import (
    PUBLISHED,
    Agreement,
    AgreementDocument,
    AgreementParty,
    AgreementSource,
    ApiToken,
    Change,
    DelegationTrip,
    ExpiryReminder,
    LegalPage,
    Organisation,
    Person,
    ProgrammeItem,
    Signatory,
    SigningEvent,
    Topic,
    TripStop,
    WebhookDelivery,
    WebhookEndpoint,
)

REGISTRY_ADMIN_GROUP = "registry admin"
ORGANISATION_EDITOR_GROUP = "organisation editor"

VIEW = "view"
CHANGE = "change"
ACTIONS = (VIEW, CHANGE)

_REQUEST_ATTRIBUTE = "_registry_viewer"


@dataclass(frozen=True)
class Viewer:
    """Who is looking: the one input of every access rule.

    ``sees_everything`` for registry administrators; ``organisation_ids`` for a
    partner token or an organisation editor; neither for the public.
    ``writes`` is true for staff sessions and staff tokens: partner tokens
    read only, whatever their organisation.
    """

    sees_everything: bool = False
    organisation_ids: frozenset[int] = frozenset()
    writes: bool = False

    @classmethod
    def for_request(cls, request) -> Viewer:
        """The request's viewer, resolved once and kept on the request (the
        underlying ``HttpRequest`` for a DRF request, after authentication)."""
        holder = getattr(request, "_request", request)
        viewer = getattr(holder, _REQUEST_ATTRIBUTE, None)
        if viewer is None:
            viewer = cls._resolve(request)
            setattr(holder, _REQUEST_ATTRIBUTE, viewer)
        return viewer

    @classmethod
    def _resolve(cls, request) -> Viewer:
        token = getattr(request, "auth", None)
        if isinstance(token, ApiToken) and token.organisation_id:
            return cls(organisation_ids=frozenset({token.organisation_id}))
        user = getattr(request, "user", None)
        session = user is not None and user.is_authenticated and user.is_staff and not isinstance(token, ApiToken)
        if session and not second_factor_satisfied(user):
            return cls()  # a staff session still waiting for its second factor
        return cls.for_user(user)

    @classmethod
    def for_user(cls, user) -> Viewer:
        """Registry administrators (superusers or the "registry admin" group)
        see everything; other staff see what is public plus what the
        organisations they are members of may see."""
        if user is None or not user.is_active or not user.is_staff:
            return cls()
        if user.is_superuser or user.groups.filter(name=REGISTRY_ADMIN_GROUP).exists():
            return cls(sees_everything=True, writes=True)
        return cls(organisation_ids=frozenset(user.member_organisations.values_list("pk", flat=True)), writes=True)

    @property
    def scope(self) -> str:
        """A short text that differs whenever what is visible differs (for caches and ETags)."""
        if self.sees_everything:
            return "all"
        return "orgs:" + ",".join(map(str, sorted(self.organisation_ids))) if self.organisation_ids else "public"


PUBLIC = Viewer()

# --------------------------------------------------------------------------
# The rules. Each returns a Q over the model's rows, or ALL / NOTHING.
# Registry administrators pass every rule (``restrict`` does not ask).

ALL = Q()
NOTHING = Q(pk__in=[])


def _party_of(viewer: Viewer, agreement: str = "pk") -> Q:
    """The agreement (``agreement`` names it from the row) has one of the viewer's organisations as a party."""
    if not viewer.organisation_ids:
        return NOTHING
    parties = AgreementParty.objects.filter(agreement=OuterRef(agreement), organisation_id__in=viewer.organisation_ids)
    return Q(Exists(parties))


def _published(prefix: str = "") -> Q:
    """``PUBLISHED`` for the agreement that ``prefix`` leads to."""
    return Q(**{f"{prefix}{name}": value for name, value in PUBLISHED.children})


def _agreement_visible(viewer: Viewer, prefix: str = "") -> Q:
    return _published(prefix) | _party_of(viewer, prefix.removesuffix("__") or "pk")


def _agreement_part(viewer: Viewer, action: str) -> Q:
    """Parties and sources: as their agreement."""
    if action == VIEW:
        return _agreement_visible(viewer, "agreement__")
    return _party_of(viewer, "agreement")


def _signatory(viewer: Viewer, action: str) -> Q:
    """Signatories: as their agreement, and seen only where the person may be."""
    if action == VIEW:
        return _agreement_part(viewer, VIEW) & _person_visible(viewer, "person__")
    return _agreement_part(viewer, CHANGE)


def _document(viewer: Viewer, action: str) -> Q:
    """Public documents of published agreements; every document of the viewer's organisations' agreements."""
    if action == VIEW:
        return Q(is_public=True) & _published("agreement__") | _party_of(viewer, "agreement")
    return _party_of(viewer, "agreement")


def _agreement(viewer: Viewer, action: str) -> Q:
    """The public sees published agreements; a partner or an editor also every
    agreement its organisations are a party to, and an editor changes those."""
    return _agreement_visible(viewer) if action == VIEW else _party_of(viewer)


def _organisation(viewer: Viewer, action: str) -> Q:
    """Organisations are public; an editor changes its own organisations' profiles."""
    return ALL if action == VIEW else Q(pk__in=viewer.organisation_ids)


def _person_visible(viewer: Viewer, prefix: str = "") -> Q:
    return Q(**{f"{prefix}is_public": True}) | Q(**{f"{prefix}organisation_id__in": viewer.organisation_ids})


def _person(viewer: Viewer, action: str) -> Q:
    """People are personal data: public ones, and the people of the viewer's
    organisations. Changing them needs the model permission (editors have none)."""
    return _person_visible(viewer)


def _reference(viewer: Viewer, action: str) -> Q:
    """Topics, events, trips and their programme, and the legal pages, are
    public; the model permission decides writes (registry administrators only
    have it for the legal pages)."""
    return ALL


def _change(viewer: Viewer, action: str) -> Q:
    """The change feed: entries about a record the viewer saw before the write
    or sees after it (published, or one of its organisations' records, as the
    entry recorded them); nobody changes the feed."""
    if action != VIEW:
        return NOTHING
    condition = Q(published_before=True) | Q(published_after=True)
    for pk in sorted(viewer.organisation_ids):
        condition |= Q(organisations_before__contains=f",{pk},") | Q(organisations_after__contains=f",{pk},")
    return condition


def _webhook_endpoint(viewer: Viewer, action: str) -> Q:
    """Webhook endpoints are an organisation's own configuration: its partner
    token and its members see and manage its endpoints (a partner token, which
    only reads the registry, writes these: see ``OWN_CONFIGURATION``)."""
    return Q(organisation_id__in=viewer.organisation_ids) if viewer.organisation_ids else NOTHING


def _webhook_delivery(viewer: Viewer, action: str) -> Q:
    """The delivery log: as its endpoint, read only."""
    if action != VIEW or not viewer.organisation_ids:
        return NOTHING
    return Q(endpoint__organisation_id__in=viewer.organisation_ids)


def _staff_only(viewer: Viewer, action: str) -> Q:
    """Tokens and sent reminders: registry administrators only."""
    return NOTHING


RULES: dict[type, Callable[[Viewer, str], Q]] = {
    Agreement: _agreement,
    AgreementParty: _agreement_part,
    Signatory: _signatory,
    AgreementSource: _agreement_part,
    AgreementDocument: _document,
    Organisation: _organisation,
    Person: _person,
    Topic: _reference,
    SigningEvent: _reference,
    DelegationTrip: _reference,
    TripStop: _reference,
    ProgrammeItem: _reference,
    LegalPage: _reference,
    Change: _change,
    WebhookEndpoint: _webhook_endpoint,
    WebhookDelivery: _webhook_delivery,
    ApiToken: _staff_only,
    ExpiryReminder: _staff_only,
}

# Models that are an organisation's own configuration, not the registry's
# record: a read-only partner token changes its organisation's rows of these.
OWN_CONFIGURATION = {WebhookEndpoint}


def rule(model: type, viewer: Viewer, action: str = VIEW) -> Q:
    """The condition on ``model``'s rows for ``viewer`` and ``action``; a model without a rule is refused."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if viewer.sees_everything:
        return ALL
    if action == CHANGE and not viewer.writes and model._meta.concrete_model not in OWN_CONFIGURATION:
        return NOTHING
    try:
        model_rule = RULES[model._meta.concrete_model]
    except KeyError:
        raise LookupError(f"no access rule for {model._meta.label}: add one to agreements.access.RULES") from None
    condition = model_rule(viewer, action)
    if action == CHANGE:  # what one may not see, one may not change
        condition &= model_rule(viewer, VIEW)
    return condition


def restrict(queryset: QuerySet, viewer: Viewer, action: str = VIEW) -> QuerySet:
    """The rows of ``queryset`` that ``viewer`` may see (``"view"``) or change (``"change"``)."""
    condition = rule(queryset.model, viewer, action)
    return queryset if condition == ALL else queryset.filter(condition)


def may(viewer: Viewer, action: str, obj) -> bool:
    """Whether ``viewer`` may ``action`` (view, change) this one record."""
    if obj is None or obj.pk is None:
        return False
    condition = rule(type(obj), viewer, action)
    if condition == ALL:
        return True
    return type(obj)._base_manager.filter(condition, pk=obj.pk).exists()
