"""Webhooks (SPEC §9): a partner organisation's endpoints and the log of every
delivery attempt. The change feed's entries are the outbox (committed with
each write); each endpoint keeps its own cursor into it, advanced only when
the receiver answered 2xx (``agreements.webhooks``)."""

import base64
import secrets

from django.db import models
from django.db.models import Max
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .base import RestrictedQuerySet, TimeStampedModel
from .changes import Change
from .organisations import Organisation

SECRET_PREFIX = "whsec_"  # noqa: S105  # the format's prefix, not a secret


def generate_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def kinds_default() -> list[str]:
    return []


class WebhookEndpoint(TimeStampedModel):
    """Where the registry posts the change feed's entries that ``organisation``
    may see, signed with ``secret``, in cursor order, at least once."""

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        help_text=_("Deliveries carry what this organisation may see, nothing else."),
    )
    url = models.URLField(_("URL"), max_length=500, help_text=_("Where deliveries are posted (https)."))
    description = models.CharField(_("description"), max_length=200, blank=True)
    secret = models.CharField(_("signing secret"), max_length=80, default=generate_secret, editable=False)
    # After a rotation the replaced secret signs too (a second signature), until then.
    previous_secret = models.CharField(_("previous signing secret"), max_length=80, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(
        _("previous secret signs until"), null=True, blank=True, editable=False
    )
    kinds = models.JSONField(
        _("kinds of change"),
        default=kinds_default,
        blank=True,
        help_text=_("Only these kinds of change are delivered; none chosen: all."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    cursor = models.BigIntegerField(
        _("delivered through"), default=0, help_text=_("The last change feed entry delivered (its cursor).")
    )
    # The batch being tried (entries after ``cursor`` through this one): a retry sends the same entries again.
    pending_through = models.BigIntegerField(_("pending through"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("consecutive failures"), default=0)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # Raised by each staff resend: a resent batch is a new message (a new webhook-id).
    resends = models.PositiveIntegerField(_("resends"), default=0, editable=False)
    # A worker delivering to the endpoint holds it until then (a killed worker's hold runs out).
    leased_until = models.DateTimeField(_("held by a worker until"), null=True, blank=True, editable=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["organisation__name", "pk"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cursor__gte=0),
                name="webhookendpoint_cursor_not_negative",
                violation_error_message=_("The cursor cannot be negative."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation} → {self.url}"

    def get_absolute_url(self) -> str:
        return reverse("api:webhook-detail", kwargs={"pk": self.pk})

    def save(self, *args, **kwargs):
        if self._state.adding and not self.cursor:
            # A new endpoint receives the changes from now on (older ones: the feed and the lists).
            self.cursor = Change.objects.aggregate(last=Max("pk"))["last"] or 0
        super().save(*args, **kwargs)

    def wants(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds

    def signing_secrets(self, now) -> list[str]:
        """The secrets a delivery at ``now`` is signed with: the current one, and
        the one it replaced while the rotation's grace period lasts."""
        if self.previous_secret and self.previous_secret_expires_at and now < self.previous_secret_expires_at:
            return [self.secret, self.previous_secret]
        return [self.secret]


class WebhookDelivery(models.Model):
    """One attempt to deliver entries (``first_cursor`` through ``last_cursor``) to an endpoint."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE, related_name="deliveries"
    )
    webhook_id = models.CharField(_("webhook-id"), max_length=80)
    first_cursor = models.BigIntegerField(_("first entry"))
    last_cursor = models.BigIntegerField(_("last entry"))
    entries = models.PositiveIntegerField(_("entries"), default=0)
    attempt = models.PositiveIntegerField(_("attempt"), default=1)
    attempted_at = models.DateTimeField(_("attempted at"), db_index=True)
    status_code = models.PositiveIntegerField(_("status code"), null=True, blank=True)
    succeeded = models.BooleanField(_("succeeded"), default=False)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), null=True, blank=True)
    response_excerpt = models.CharField(_("response (excerpt)"), max_length=500, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-attempted_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.webhook_id} #{self.attempt}"

    def get_absolute_url(self) -> str:
        return reverse("admin:agreements_webhookdelivery_change", args=[self.pk])
