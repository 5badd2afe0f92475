"""Writes that follow rules. Keyword-only, typed, atomic, validated."""

import datetime
import hashlib
import json
import secrets
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from .access import Viewer

from .choices import AgreementStatus, DatePrecision
from .models import (
    Agreement,
    AgreementConfirmation,
    AgreementParty,
    ApiToken,
    ExpiryReminder,
    Organisation,
    SigningEvent,
    hash_token_key,
    locked_for_update,
)
from .reminders import expiry_reminder_text

# "cooperation agreement registry": makes leaked keys easy to spot in logs and secret scanners
TOKEN_KEY_PREFIX = "car_"  # noqa: S105 - a prefix, not a secret


@transaction.atomic
def token_create(
    *,
    name: str,
    organisation: Organisation | None = None,
    user: AbstractBaseUser | None = None,
    expires_in_days: int | None = None,
    expires_at: datetime.datetime | None = None,
    created_by: AbstractBaseUser | None = None,
) -> tuple[ApiToken, str]:
    """Create an API token for a partner organisation or a staff user.

    Returns the token and its key. The key is not stored anywhere (only its
    hash), so this is the one moment it can be shown.
    """
    if expires_in_days is not None:
        if expires_in_days < 1:
            raise ValidationError({"expires_at": "A token must be valid for at least one day."})
        expires_at = timezone.now() + datetime.timedelta(days=expires_in_days)
    key = TOKEN_KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        organisation=organisation,
        user=user,
        prefix=key[:12],
        key_hash=hash_token_key(key),
        created_by=created_by,
        expires_at=expires_at,
    )
    token.full_clean()
    token._history_user = created_by
    token.save()
    return token, key


@transaction.atomic
def token_revoke(*, token: ApiToken, revoked_by: AbstractBaseUser | None = None) -> ApiToken:
    """Revoke a token for good; using it afterwards answers 401."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token._history_user = revoked_by
        token.save(update_fields=["revoked_at"])
    return token


# --------------------------------------------------------------------------
# Lost updates: one check for the admin's loaded version and the API's If-Match


class StaleWrite(ValidationError):
    """The record changed after the writer read it; nothing was written."""


def record_version(model, pk, updated_at: datetime.datetime) -> str:
    """A record's version as a writer last read it: the admin form carries it
    (hidden), the API's detail ETag starts with it (If-Match)."""
    text = f"{model._meta.label}|{pk}|{updated_at.isoformat()}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def stale_write_check(*, model, pk, versions: list[str]) -> None:
    """Lock the record until the transaction ends and refuse the write
    (``StaleWrite``, naming who changed it and when) unless its current
    version is one the writer read. Call inside the writing transaction."""
    current = locked_for_update(model.objects).filter(pk=pk).values_list("updated_at", flat=True).first()
    if current is None or record_version(model, pk, current) in versions:
        return
    last = model.history.filter(id=pk).select_related("history_user").first()
    raise StaleWrite(
        _(
            "This record was changed meanwhile by %(user)s (%(time)s). Your changes were not saved: "
            "open it again to see the current version, then repeat your edit."
        )
        % {
            "user": (last.history_user if last and last.history_user else _("someone")),
            "time": formats.localize(timezone.localtime(current)),
        },
        code="stale",
    )


# --------------------------------------------------------------------------
# Agreement rules shared by every door (admin form, API, import)


def agreement_parties_check(*, status: str, organisation_ids: list[int], viewer: "Viewer | None" = None) -> None:
    """The party rules, held once: an organisation is a party only once; a
    signed (or terminated) agreement has at least two; an organisation
    editor's agreement has one of the editor's organisations among them."""
    if len(organisation_ids) != len(set(organisation_ids)):
        raise ValidationError(
            {"parties": _("An organisation can be a party to an agreement only once.")}, code="duplicate"
        )
    if status in AgreementStatus.concluded() and len(organisation_ids) < 2:
        raise ValidationError({"parties": _("A signed agreement needs at least two parties.")}, code="parties")
    if viewer is not None and not viewer.sees_everything and not set(organisation_ids) & viewer.organisation_ids:
        raise ValidationError(
            {"parties": _("One of your organisations must be a party to the agreement.")}, code="own_party"
        )


def agreement_parties_set(*, agreement: Agreement, parties: list[tuple[Organisation, str]]) -> None:
    """Make ``parties`` (organisation, role), in this order, the agreement's
    parties: removed ones deleted, new ones added, changed ones saved, each
    with its own history row; unchanged ones untouched."""
    current = {party.organisation_id: party for party in agreement.parties.all()}
    wanted = {organisation.pk for organisation, _role in parties}
    for organisation_id in current.keys() - wanted:
        current[organisation_id].delete()
    for position, (organisation, role) in enumerate(parties):
        party = current.get(organisation.pk) or AgreementParty(agreement=agreement, organisation=organisation)
        if party.pk is None or (party.role, party.position) != (role, position):
            party.role, party.position = role, position
            party.full_clean(exclude=["agreement"], validate_unique=False)
            party.save()


def agreement_status_kept_check(*, stored: str | None, status: str) -> None:
    """A write of an existing agreement's record keeps its status: the status
    moves only through the lifecycle services (the admin's buttons, the API's steps)."""
    if stored is not None and status != stored:
        raise ValidationError(
            {
                "status": _(
                    "The status changes only through the lifecycle actions "
                    "(POST …/negotiate/, …/draft/, …/sign/, …/terminate/)."
                )
            },
            code="lifecycle",
        )


@transaction.atomic
def agreement_save(
    *,
    agreement: Agreement,
    user: AbstractBaseUser | None = None,
    viewer: "Viewer | None" = None,
    topics: list | None = None,
    parties: list[tuple[Organisation, str]] | None = None,
) -> Agreement:
    """Create an agreement or change its record, with every rule that applies:
    the status is kept (``agreement_status_kept_check``), the party rule on the
    parties given or stored, the model's validation; saved with its history
    (the acting user), then its topics and parties."""
    if agreement.pk is not None:
        stored = locked_for_update(Agreement.objects).filter(pk=agreement.pk).values_list("status", flat=True).first()
        agreement_status_kept_check(stored=stored, status=agreement.status)
    if parties is not None:
        organisation_ids = [organisation.pk for organisation, _role in parties]
    elif agreement.pk is not None:
        organisation_ids = list(agreement.parties.values_list("organisation_id", flat=True))
    else:
        organisation_ids = []
    agreement_parties_check(status=agreement.status, organisation_ids=organisation_ids, viewer=viewer)
    agreement.full_clean()
    agreement._history_user = user
    agreement.save()
    if topics is not None:
        agreement.topics.set(topics)
    if parties is not None:
        agreement_parties_set(agreement=agreement, parties=parties)
    return agreement


def agreement_status_change_check(*, current: str, target: str) -> None:
    """An existing agreement's status changes only along the lifecycle
    (a new one may be created in any state its other rules allow)."""
    if current != target:
        _check_transition_between(current, target)


# --------------------------------------------------------------------------
# Agreement lifecycle: draft ⇄ negotiating → signed → terminated


def _locked(agreement: Agreement) -> Agreement:
    """The agreement's current row, locked until the transaction ends."""
    return locked_for_update(Agreement.objects).get(pk=agreement.pk)


def _check_transition(agreement: Agreement, target: str) -> None:
    _check_transition_between(agreement.status, target)


def _check_transition_between(current: str, target: str) -> None:
    current = AgreementStatus(current)
    if target not in current.next_statuses():
        raise ValidationError(
            {
                "status": _("An agreement that is “%(current)s” cannot become “%(target)s”.")
                % {"current": current.label, "target": AgreementStatus(target).label}
            },
            code="illegal_transition",
        )


def _save(agreement: Agreement, user, reason: str) -> Agreement:
    agreement.full_clean()
    agreement._history_user = user
    agreement._change_reason = reason
    agreement.save()
    return agreement


@transaction.atomic
def agreement_start_negotiation(*, agreement: Agreement, user: AbstractBaseUser | None = None) -> Agreement:
    """Draft → negotiating."""
    agreement = _locked(agreement)
    _check_transition(agreement, AgreementStatus.NEGOTIATING)
    agreement.status = AgreementStatus.NEGOTIATING
    return _save(agreement, user, "negotiation started")


@transaction.atomic
def agreement_back_to_draft(*, agreement: Agreement, user: AbstractBaseUser | None = None) -> Agreement:
    """Negotiating → draft."""
    agreement = _locked(agreement)
    _check_transition(agreement, AgreementStatus.DRAFT)
    agreement.status = AgreementStatus.DRAFT
    return _save(agreement, user, "back to draft")


@transaction.atomic
def agreement_sign(
    *,
    agreement: Agreement,
    signed_on: datetime.date | None = None,
    precision: str = DatePrecision.DAY,
    signing_event: SigningEvent | None = None,
    user: AbstractBaseUser | None = None,
) -> Agreement:
    """Draft or negotiating → signed. Needs two distinct parties and a signing
    date (kept with its precision) or a signing event."""
    agreement = _locked(agreement)
    _check_transition(agreement, AgreementStatus.SIGNED)
    agreement_parties_check(
        status=AgreementStatus.SIGNED, organisation_ids=list(agreement.parties.values_list("organisation", flat=True))
    )
    if signed_on is None and signing_event is None:
        raise ValidationError(
            {"signed_on": _("A signed agreement needs a signing date or a signing event.")}, code="required"
        )
    agreement.status = AgreementStatus.SIGNED
    agreement.signed_on = signed_on
    agreement.signed_on_precision = precision
    agreement.signing_event = signing_event
    return _save(agreement, user, "signed")


@transaction.atomic
def agreement_terminate(
    *, agreement: Agreement, terminated_on: datetime.date, reason: str, user: AbstractBaseUser | None = None
) -> Agreement:
    """Signed → terminated, with the date and the reason."""
    agreement = _locked(agreement)
    _check_transition(agreement, AgreementStatus.TERMINATED)
    if not reason or not reason.strip():
        raise ValidationError({"termination_reason": _("Give the reason for the termination.")}, code="required")
    agreement.status = AgreementStatus.TERMINATED
    agreement.terminated_on = terminated_on
    agreement.termination_reason = reason.strip()
    return _save(agreement, user, "terminated")


@transaction.atomic
def agreement_succeed(
    *,
    predecessor: Agreement,
    succession: str,
    slug: str,
    user: AbstractBaseUser | None = None,
) -> Agreement:
    """Start a new draft that renews, amends or supersedes ``predecessor``:
    texts, kind, topics and parties are carried over, to be edited."""
    if predecessor.status not in AgreementStatus.concluded():
        raise ValidationError(
            {"status": _("Only a signed (or terminated) agreement can be renewed, amended or superseded.")},
            code="illegal_transition",
        )
    successor = Agreement(
        slug=slug,
        kind=predecessor.kind,
        language=predecessor.language,
        predecessor=predecessor,
        succession=succession,
        **{
            name: getattr(predecessor, name)
            for name in (*Agreement.title.fields, *Agreement.summary.fields, *Agreement.objectives.fields)
        },
    )
    _save(successor, user, f"{succession} {predecessor.slug}")
    successor.topics.set(predecessor.topics.all())
    for party in predecessor.parties.all():
        AgreementParty.objects.create(
            agreement=successor, organisation=party.organisation, role=party.role, position=party.position
        )
    return successor


# --------------------------------------------------------------------------
# Expiry reminders


def agreements_due_for_reminder(*, today: datetime.date):
    """Signed agreements with a notice period whose end lies within it (not yet past)."""
    candidates = Agreement.objects.filter(
        status=AgreementStatus.SIGNED, notice_period_days__isnull=False, valid_until__gte=today
    ).prefetch_related("parties__organisation__members")
    return [a for a in candidates if a.valid_until - datetime.timedelta(days=a.notice_period_days) <= today]


def expiry_reminders_send(*, today: datetime.date, dry_run: bool = False) -> list[str]:
    """E-mail the members of each party organisation once per agreement and end
    date. Each reminder is recorded in the same transaction as it is sent, so a
    failed send is retried next time and a sent one is never sent again."""
    report = []
    for agreement in agreements_due_for_reminder(today=today):
        for party in agreement.parties.all():
            organisation = party.organisation
            recipients = sorted({m.email for m in organisation.members.all() if m.is_active and m.email})
            if (
                not recipients
                or ExpiryReminder.objects.filter(
                    agreement=agreement, organisation=organisation, valid_until=agreement.valid_until
                ).exists()
            ):
                continue
            report.append(f"{agreement.slug} → {organisation.slug}: {', '.join(recipients)}")
            if dry_run:
                continue
            with transaction.atomic():
                ExpiryReminder.objects.create(
                    agreement=agreement,
                    organisation=organisation,
                    valid_until=agreement.valid_until,
                    recipients=", ".join(recipients),
                )
                # In the organisation's language, with a link to the record (agreements.reminders).
                subject, message = expiry_reminder_text(agreement=agreement, organisation=organisation)
                send_mail(subject=subject, message=message, from_email=None, recipient_list=recipients)
    return report


# --------------------------------------------------------------------------
# Partner confirmation of the record (SPEC §9)

CANONICAL_VERSION = 1


def agreement_canonical(agreement: Agreement) -> dict:
    """The content a party confirms, as plain JSON values: what makes the
    agreement (titles, kind, parties and roles, the effective signing date
    with its precision, the signing event, the term, the documents' hashes),
    not how the registry keeps it (status, texts of summaries, publication).
    Its hash (``agreement_content_hash``) is the SHA-256 of its canonical JSON:
    keys sorted, no spaces, UTF-8 (RFC 8785's form for these values)."""
    parties = sorted((party.organisation.slug, party.role) for party in _parties(agreement))
    # Every document counts, public or not (the page's prefetch holds only the visible ones).
    documents = sorted(agreement.documents.exclude(sha256="").values_list("sha256", flat=True))
    return {
        "version": CANONICAL_VERSION,
        "slug": agreement.slug,
        "title": {field.removeprefix("title_"): getattr(agreement, field) for field in Agreement.title.fields},
        "kind": agreement.kind,
        "parties": [{"organisation": slug, "role": role} for slug, role in parties],
        "signed": DatePrecision(agreement.signed_date_precision).iso(agreement.signed_date) or None,
        "signing_event": agreement.signing_event.slug if agreement.signing_event_id else None,
        "valid_from": agreement.valid_from.isoformat() if agreement.valid_from else None,
        "valid_until": agreement.valid_until.isoformat() if agreement.valid_until else None,
        "indefinite": agreement.indefinite,
        "documents": documents,
    }


def _parties(agreement: Agreement) -> list:
    """The agreement's parties with their organisations, in their order: the
    ones a page or the admin has prefetched already, else read once."""
    if "parties" in getattr(agreement, "_prefetched_objects_cache", {}):
        return list(agreement.parties.all())
    return list(agreement.parties.select_related("organisation").order_by("position", "id"))


def canonical_json(value: dict) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def agreement_content_hash(agreement: Agreement, canonical: dict | None = None) -> str:
    return hashlib.sha256(canonical_json(canonical or agreement_canonical(agreement))).hexdigest()


class ConfirmationConflict(ValidationError):
    """The hash sent is not the agreement's current one."""

    def __init__(self, current: str, canonical: dict, differs: list[str]):
        super().__init__(_("The agreement's content has another hash now."), code="conflict")
        self.current, self.canonical, self.differs = current, canonical, differs


def agreement_confirmations(agreement: Agreement) -> dict:
    """Each party's current word on the record: confirmed (for the current
    content), changed since its confirmation, withdrawn, or not yet confirmed."""
    canonical = agreement_canonical(agreement)
    current = agreement_content_hash(agreement, canonical)
    latest: dict[int, AgreementConfirmation] = {}
    for confirmation in agreement.confirmations.select_related("organisation").order_by("confirmed_at", "id"):
        latest[confirmation.organisation_id] = confirmation
    parties = []
    for party in _parties(agreement):
        confirmation = latest.get(party.organisation_id)
        if confirmation is None:
            state = "not_confirmed"
        elif confirmation.withdrawn_at is not None:
            state = "withdrawn"
        elif confirmation.content_hash == current:
            state = "confirmed"
        else:
            state = "changed_since_confirmation"
        parties.append({"organisation": party.organisation, "state": state, "confirmation": confirmation})
    return {"content_hash": current, "canonical": canonical, "parties": parties}


def confirmation_state_text(entry: dict) -> str:
    """One party's word on the record, for pages and the admin (an entry of ``agreement_confirmations``)."""
    confirmation = entry["confirmation"]
    name = entry["organisation"].display_name
    if entry["state"] == "not_confirmed":
        return _("not confirmed yet")
    if entry["state"] == "withdrawn":
        return _("confirmation withdrawn on %(date)s: %(reason)s") % {
            "date": formats.date_format(timezone.localtime(confirmation.withdrawn_at), "DATE_FORMAT"),
            "reason": confirmation.withdrawal_reason,
        }
    date = formats.date_format(timezone.localtime(confirmation.confirmed_at), "DATE_FORMAT")
    if entry["state"] == "changed_since_confirmation":
        return _("changed since confirmation by %(name)s on %(date)s") % {"name": name, "date": date}
    return _("confirmed on %(date)s") % {"date": date}


def _differences(before: dict, after: dict) -> list[str]:
    return sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key))


@transaction.atomic
def agreement_confirm(
    *, agreement: Agreement, organisation: Organisation, content_hash: str, token: ApiToken | None = None
) -> AgreementConfirmation:
    """``organisation`` (a party) confirms the content whose hash it sends; a
    hash that is not the current one is refused, naming what changed since
    this party's last confirmation (if it made one)."""
    agreement = _locked(agreement)
    if not agreement.parties.filter(organisation=organisation).exists():
        raise ValidationError(_("Only a party to the agreement may confirm it."), code="not_a_party")
    canonical = agreement_canonical(agreement)
    current = agreement_content_hash(agreement, canonical)
    if content_hash != current:
        last = agreement.confirmations.filter(organisation=organisation).order_by("-confirmed_at", "-id").first()
        differs = _differences(last.canonical, canonical) if last is not None else []
        raise ConfirmationConflict(current, canonical, differs)
    last = agreement.confirmations.filter(organisation=organisation).order_by("-confirmed_at", "-id").first()
    if last is not None and last.content_hash == current and last.withdrawn_at is None:
        return last  # confirmed already: a retry changes nothing
    return AgreementConfirmation.objects.create(
        agreement=agreement,
        organisation=organisation,
        content_hash=current,
        canonical=canonical,
        confirmed_at=timezone.now(),
        token=token,
    )


@transaction.atomic
def agreement_confirmation_withdraw(
    *, agreement: Agreement, organisation: Organisation, reason: str
) -> AgreementConfirmation:
    agreement = _locked(agreement)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the confirmation is withdrawn.")}, code="required")
    confirmation = (
        agreement.confirmations.filter(organisation=organisation, withdrawn_at__isnull=True)
        .order_by("-confirmed_at", "-id")
        .first()
    )
    if confirmation is None:
        raise ValidationError(_("This organisation has no confirmation to withdraw."), code="nothing_to_withdraw")
    confirmation.withdrawn_at = timezone.now()
    confirmation.withdrawal_reason = reason.strip()
    confirmation.save(update_fields=["withdrawn_at", "withdrawal_reason"])
    return confirmation
