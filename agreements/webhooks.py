"""Webhook deliveries (SPEC §9): the change feed's entries, pushed to each
partner endpoint at least once, in cursor order, signed as the Standard
Webhooks specification says.

The outbox is the change feed itself: its entries are written by the database
in the transaction of each write (``agreements.feed_triggers``), so a crash
between a commit and an enqueue loses nothing. Each endpoint keeps its own
cursor, the last entry its receiver acknowledged with a 2xx; ``deliver`` sends
the entries after it that the endpoint's organisation may see (the access
seam decides, as for that organisation's token), and moves the cursor only on
a 2xx. A failed batch is sent again, the same entries, after 30 s, 1 min,
2 min, ... (at most an hour apart) until it succeeds or ``WEBHOOK_RETRY_HOURS``
(at least 24) have passed: then the endpoint is disabled and its
organisation's members and the registry administrators are told.

Running: ``agreements.tasks`` on Django's tasks framework (``django-tasks-db``
backend, ``manage.py task_worker``). Each delivery holds its endpoint (a lease
in the row, not a lock held across the request), renewed before each batch
and each request, so two workers never send one endpoint's batches out of
order however long a run takes, and a killed worker's hold runs out.

Messages: a batch's ``webhook-id`` is the same for every retry of it (a
receiver deduplicates on it); a staff resend (``endpoint_resend``) sends new
messages under new ids, read afresh, since a resend exists to be processed
again. Each entry's ``cursor`` names the change itself, whatever message
carried it. After a secret is rotated (``endpoint_rotate_secret``) deliveries
carry two signatures, the new secret's and the old one's, for
``WEBHOOK_SECRET_GRACE_HOURS``.

Safety: the URL must be https (unless ``WEBHOOK_ALLOW_HTTP``); the host name
is resolved at every delivery, every address it has must be public (not
loopback, private, link-local — the cloud metadata address among them —,
multicast, reserved or unspecified) unless it lies in
``WEBHOOK_ALLOWED_NETWORKS``, and the request goes to the checked address
(with the name as Host and for TLS), so a second lookup cannot point it
elsewhere. Redirects are not followed; connect and reads time out after
``WEBHOOK_TIMEOUT_SECONDS``; at most ``RESPONSE_CAP`` bytes of the answer are
read.
"""

from __future__ import annotations

import datetime
import http.client
import ipaddress
import logging
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import orjson
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Max, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from rest_framework.request import Request
from standardwebhooks.webhooks import Webhook

from . import access
from .access import Viewer
from .models import Change, ChangeKind, WebhookDelivery, WebhookEndpoint
from .models.webhooks import generate_secret
from .reminders import reminder_language

logger = logging.getLogger(__name__)

BATCH = 100  # entries per delivery
RESPONSE_CAP = 4096  # bytes of the answer read
EXCERPT = 500  # characters of it kept in the log
LEASE = datetime.timedelta(seconds=120)  # longer than one delivery can take (connect + reads)
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600
USER_AGENT = "CooperationAgreementRegistry-Webhooks/1"
GONE = {ChangeKind.DELETED, ChangeKind.REMOVED_FROM_VIEW}


class UnsafeTarget(Exception):
    """The endpoint's URL may not be used (scheme, or an address it resolves to)."""


# --------------------------------------------------------------------------
# Where a delivery may go


def _allowed_networks():
    return [ipaddress.ip_network(network) for network in settings.WEBHOOK_ALLOWED_NETWORKS]


def address_refused(address: str) -> bool:
    """Whether a delivery may not connect to ``address`` (an IP address)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in _allowed_networks()):
        return False
    # is_global is false for loopback, private, link-local (169.254.169.254, the
    # cloud metadata address), shared, documentation and reserved ranges.
    return not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an endpoint's address (scheme, form), or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # raises for a port that is no number
    except ValueError:
        return _("Not a usable URL.")
    if parts.scheme != "https" and not (parts.scheme == "http" and settings.WEBHOOK_ALLOW_HTTP):
        return _("Webhook URLs must start with https://.")
    if not parts.hostname:
        return _("The URL names no host.")
    if parts.username or parts.password:
        return _("The URL may not hold a user name or password.")
    return None


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, each checked; refused if any is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeTarget(_("The host name could not be resolved.")) from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    refused = [address for address in addresses if address_refused(address)]
    if refused or not addresses:
        raise UnsafeTarget(
            _("The host resolves to an address deliveries may not reach (%(addresses)s).")
            % {"addresses": ", ".join(refused)}
        )
    return addresses


def registration_problem(url: str) -> str | None:
    """Why ``url`` cannot be registered: its form, or a host that resolves now
    to an address deliveries may not reach (a name that does not resolve yet is
    accepted; every delivery checks again)."""
    problem = url_problem(url)
    if problem:
        return problem
    parts = urlsplit(url)
    try:
        resolve(parts.hostname, parts.port or 443)
    except UnsafeTarget as exc:
        if isinstance(exc.__cause__, socket.gaierror | UnicodeError):
            return None
        return str(exc)
    return None


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address; the Host header names the host."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the checked address; TLS (SNI, certificate) and Host for the host name."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass
class Answer:
    status: int | None = None
    excerpt: str = ""
    error: str = ""
    latency_ms: int | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST ``body`` to ``url`` as described in the module's docstring; never raises for the network's reasons."""
    problem = url_problem(url)
    if problem:
        return Answer(error=problem)
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    try:
        addresses = resolve(parts.hostname, port)
    except UnsafeTarget as exc:
        return Answer(error=str(exc))
    connection_class = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
    connection = connection_class(parts.hostname, port, addresses[0], settings.WEBHOOK_TIMEOUT_SECONDS)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read(RESPONSE_CAP)  # redirects are answers like any other: not followed
        return Answer(
            status=response.status,
            excerpt=content.decode("utf-8", errors="replace")[:EXCERPT],
            latency_ms=round((time.monotonic() - started) * 1000),
        )
    except (OSError, http.client.HTTPException) as exc:
        return Answer(
            error=f"{type(exc).__name__}: {exc}"[:EXCERPT], latency_ms=round((time.monotonic() - started) * 1000)
        )
    finally:
        connection.close()


# --------------------------------------------------------------------------
# What a delivery carries


def viewer_of(endpoint: WebhookEndpoint) -> Viewer:
    """The endpoint's organisation, as its partner token sees the registry."""
    return Viewer(organisation_ids=frozenset({endpoint.organisation_id}))


def _api_request(viewer: Viewer) -> Request:
    """A request of the endpoint's organisation, for the API's serializers (addresses under ``SITE_URL``)."""
    http_request = HttpRequest()
    http_request.method = "GET"
    setattr(http_request, access._REQUEST_ATTRIBUTE, viewer)
    request = Request(http_request)
    request._registry_origin = settings.SITE_URL
    return request


def record_of(entry: Change, kind: str, viewer: Viewer, request: Request):
    """The record as the API shows it to ``viewer`` (its detail), or None when gone from its view."""
    if kind in GONE:
        return None
    from .api import webhooks as api  # the API's viewsets: the same rows and serializers as a GET of the record

    viewset_class = api.WEBHOOK_RECORD_VIEWSETS[entry.resource]
    viewset = viewset_class(request=request, args=(), kwargs={"slug": entry.slug}, format_kwarg=None, action="retrieve")
    record = viewset.get_queryset().filter(slug=entry.slug).first()
    return None if record is None else viewset.get_serializer(record).data


def entries_for(endpoint: WebhookEndpoint, through: int) -> list[dict]:
    """The feed's entries after the endpoint's cursor through ``through``, as its organisation may see them."""
    from .api.serializers import api_address
    from .api.views import FEED_RESOURCES

    viewer = viewer_of(endpoint)
    request = _api_request(viewer)
    rows = Change.objects.visible_to(viewer).filter(pk__gt=endpoint.cursor, pk__lte=through).order_by("pk")
    result = []
    with translation.override(reminder_language(endpoint.organisation)):
        for entry in rows:
            kind = entry.kind_for(viewer.organisation_ids, viewer.sees_everything)
            if not endpoint.wants(kind):
                continue
            resource, route = FEED_RESOURCES[entry.resource]
            result.append(
                {
                    "cursor": str(entry.pk),
                    "resource": resource,
                    "slug": entry.slug,
                    "url": api_address(request, route, "slug", entry.slug),
                    "kind": str(kind),
                    "changed_at": entry.changed_at.isoformat(),
                    "record": record_of(entry, kind, viewer, request),
                }
            )
    return result


def next_batch_end(endpoint: WebhookEndpoint) -> int | None:
    """The last entry of the endpoint's next batch (the pending one when a batch
    failed), or None when nothing follows its cursor."""
    if endpoint.pending_through is not None:
        return endpoint.pending_through
    head = Change.objects.aggregate(last=Max("pk"))["last"] or 0  # before the rows: ids come in commit order
    if head <= endpoint.cursor:
        return None
    visible = (
        Change.objects.visible_to(viewer_of(endpoint))
        .filter(pk__gt=endpoint.cursor, pk__lte=head)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    batch = list(visible[:BATCH])
    return batch[-1] if len(batch) == BATCH else head


def signed_headers(
    endpoint: WebhookEndpoint, msg_id: str, body: bytes, now: datetime.datetime, at: datetime.datetime | None = None
) -> dict:
    """Standard Webhooks headers, signed at ``now``; during a rotation's grace
    period (at ``at``, default ``now``) the signature header holds the new
    secret's signature and the old one's, space-separated."""
    timestamp = now.replace(microsecond=0)
    secrets = endpoint.signing_secrets(at or now)
    signatures = [Webhook(secret).sign(msg_id, timestamp, body.decode()) for secret in secrets]
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def message_id(endpoint: WebhookEndpoint, through: int) -> str:
    """The batch's ``webhook-id``: the same for each retry of the batch, a new
    one for each staff resend (``_r`` and the resend's number)."""
    resent = f"_r{endpoint.resends}" if endpoint.resends else ""
    return f"msg_{endpoint.pk}_{endpoint.cursor}_{through}{resent}"


# --------------------------------------------------------------------------
# Delivering


def retry_delay(failures: int) -> datetime.timedelta:
    """30 s after the first failure, doubling, at most an hour."""
    return datetime.timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** max(failures - 1, 0), MAX_RETRY_SECONDS))


def _clock() -> datetime.datetime:
    return timezone.now()


class _Hold:
    """A delivery's hold on its endpoint: ``leased_until`` as this delivery set
    it. Renewing moves it on by ``LEASE`` from the time it is renewed (``now``
    plus the time the delivery has run), only while it is still this
    delivery's: a hold that ran out and was taken by another worker is lost."""

    def __init__(self, endpoint_id: int, now: datetime.datetime):
        self.endpoint_id, self.now, self.started = endpoint_id, now, _clock()
        self.until: datetime.datetime | None = None

    def current(self) -> datetime.datetime:
        return self.now + (_clock() - self.started)

    def take(self) -> bool:
        now = self.current()
        free = Q(leased_until__isnull=True) | Q(leased_until__lt=now)
        due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=self.now)
        until = now + LEASE
        if WebhookEndpoint.objects.filter(free, due, pk=self.endpoint_id, is_active=True).update(leased_until=until):
            self.until = until
        return self.until is not None

    def renew(self) -> bool:
        until = self.current() + LEASE
        if self.until is None:
            return False
        if WebhookEndpoint.objects.filter(pk=self.endpoint_id, leased_until=self.until).update(leased_until=until):
            self.until = until
        else:
            self.until = None  # taken over: this delivery stops
        return self.until is not None

    def release(self) -> None:
        if self.until is not None:
            WebhookEndpoint.objects.filter(pk=self.endpoint_id, leased_until=self.until).update(leased_until=None)
            self.until = None


def deliver(endpoint_id: int, *, now: datetime.datetime | None = None, batches: int = 10) -> str:
    """Send the endpoint's pending entries (up to ``batches`` batches) and
    record each attempt; returns "delivered", "failed", "nothing", "busy" (held
    by another worker, not due or disabled; or the hold was lost) or
    "disabled" (given up)."""
    now = now or timezone.now()
    hold = _Hold(endpoint_id, now)
    if not hold.take():
        return "busy"
    outcome = "nothing"
    try:
        for batch in range(batches):
            if batch and not hold.renew():
                return "busy"
            endpoint = WebhookEndpoint.objects.select_related("organisation").get(pk=endpoint_id)
            through = next_batch_end(endpoint)
            if through is None:
                break
            entries = entries_for(endpoint, through)
            if not entries:  # nothing this organisation may see, or wants: read on
                WebhookEndpoint.objects.filter(pk=endpoint_id).update(cursor=through, pending_through=None)
                continue
            outcome = _send(endpoint, entries, through, now, hold)
            if outcome != "delivered":
                break
    finally:
        hold.release()
    return outcome


def _send(endpoint: WebhookEndpoint, entries: list[dict], through: int, now: datetime.datetime, hold: _Hold) -> str:
    msg_id = message_id(endpoint, through)
    sent_at = timezone.now()  # the signature's time is the clock's (``now`` schedules the attempts)
    body = orjson.dumps({"type": "registry.changes", "timestamp": sent_at.isoformat(), "data": {"entries": entries}})
    if not hold.renew():  # reading the entries took long: the request gets a whole lease
        return "busy"
    # Pending first: a worker killed during the request sends the same entries again.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(pending_through=through)
    answer = post(endpoint.url, body, signed_headers(endpoint, msg_id, body, sent_at, at=hold.current()))
    attempt = endpoint.consecutive_failures + 1
    with transaction.atomic():
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            webhook_id=msg_id,
            first_cursor=int(entries[0]["cursor"]),
            last_cursor=through,
            entries=len(entries),
            attempt=attempt,
            attempted_at=now,
            status_code=answer.status,
            succeeded=answer.succeeded,
            latency_ms=answer.latency_ms,
            response_excerpt=answer.excerpt,
            error=answer.error
            or ("" if answer.succeeded else _("The receiver answered %(status)s.") % {"status": answer.status}),
        )
        if answer.succeeded:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
                cursor=through, pending_through=None, consecutive_failures=0, failing_since=None, next_attempt_at=None
            )
            return "delivered"
        failing_since = endpoint.failing_since or now
        if now - failing_since >= datetime.timedelta(hours=settings.WEBHOOK_RETRY_HOURS):
            endpoint_disable(endpoint, reason=answer.error or f"HTTP {answer.status}", now=now, attempts=attempt)
            return "disabled"
        next_attempt_at = now + retry_delay(attempt)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            consecutive_failures=attempt, failing_since=failing_since, next_attempt_at=next_attempt_at
        )
    from .tasks import schedule_retry

    schedule_retry(endpoint.pk, next_attempt_at)
    return "failed"


def endpoint_disable(endpoint: WebhookEndpoint, *, reason: str, now: datetime.datetime, attempts: int) -> None:
    """Give up on an endpoint that failed for ``WEBHOOK_RETRY_HOURS``; tell its
    organisation's members and the registry administrators."""
    since = endpoint.failing_since or now
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False,
        disabled_reason=(
            _("Disabled on %(date)s: deliveries failed since %(since)s (last error: %(reason)s)")
            % {
                "date": now.isoformat(timespec="minutes"),
                "since": since.isoformat(timespec="minutes"),
                "reason": reason,
            }
        )[:300],
        consecutive_failures=attempts,
        next_attempt_at=None,
    )
    admins = get_user_model().objects.filter(
        Q(is_superuser=True) | Q(groups__name=access.REGISTRY_ADMIN_GROUP), is_active=True
    )
    members = endpoint.organisation.members.filter(is_active=True)
    admin_url = settings.SITE_URL + reverse("admin:agreements_webhookendpoint_change", args=[endpoint.pk])
    values = {
        "url": endpoint.url,
        "organisation": endpoint.organisation.name,
        "since": since.isoformat(timespec="minutes"),
        "reason": reason,
        "admin": admin_url,
    }
    for language, users in (
        (reminder_language(endpoint.organisation), members),
        (settings.LANGUAGE_CODE, admins.exclude(pk__in=members.values("pk"))),
    ):
        recipients = sorted({user.email for user in users if user.email})
        if not recipients:
            continue
        with translation.override(language):
            subject = _("Webhook disabled: %(url)s") % values
            message = "\n\n".join(
                [
                    _(
                        "Deliveries to the webhook endpoint %(url)s of %(organisation)s have failed since %(since)s; "
                        "the registry has stopped trying."
                    )
                    % values,
                    _("The last error: %(reason)s") % values,
                    _(
                        "Nothing is lost: once the receiver works again, enable the endpoint (API: PATCH is_active, "
                        "or the admin) and the deliveries resume where they stopped: %(admin)s"
                    )
                    % values,
                ]
            )
        send_mail(subject=subject, message=message + "\n", from_email=None, recipient_list=recipients)


def endpoint_resend(endpoint: WebhookEndpoint, *, after: int) -> None:
    """Deliver again the entries after the cursor ``after`` (and enable the
    endpoint): new messages, under new webhook-ids (``message_id``), so that a
    receiver deduplicating on the id processes them."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        cursor=after,
        resends=F("resends") + 1,
        pending_through=None,
        is_active=True,
        disabled_reason="",
        consecutive_failures=0,
        failing_since=None,
        next_attempt_at=None,
    )


@transaction.atomic
def endpoint_rotate_secret(endpoint: WebhookEndpoint, *, now: datetime.datetime | None = None) -> WebhookEndpoint:
    """A new signing secret for ``endpoint``; the one it replaces signs too (a
    second signature) for ``WEBHOOK_SECRET_GRACE_HOURS``, so the receiver can
    switch without losing a delivery. Rotating again within the grace period
    drops the oldest secret."""
    now = now or timezone.now()
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + datetime.timedelta(hours=settings.WEBHOOK_SECRET_GRACE_HOURS)
    endpoint.secret = generate_secret()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return endpoint


def due_endpoint_ids(now: datetime.datetime | None = None) -> list[int]:
    """Active endpoints with entries after their cursor, whose next attempt is due and that no worker holds."""
    now = now or timezone.now()
    head = Change.objects.aggregate(last=Max("pk"))["last"] or 0
    return list(
        WebhookEndpoint.objects.filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
            Q(leased_until__isnull=True) | Q(leased_until__lt=now),
            Q(cursor__lt=head) | Q(pending_through__isnull=False),
            is_active=True,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def deliver_due(now: datetime.datetime | None = None) -> dict[int, str]:
    """Deliver, in this process, to every endpoint that is due (``manage.py deliver_webhooks``; tests)."""
    return {endpoint_id: deliver(endpoint_id, now=now) for endpoint_id in due_endpoint_ids(now)}
