"""API tokens: only hashes are stored."""

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..choices import (
    AgreementStatus,
)
from .base import RestrictedQuerySet
from .organisations import Organisation


def hash_token_key(key: str) -> str:
    # Keys are 256-bit random strings, so a fast hash is enough (no brute force).
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """A key for the REST API. Only its SHA-256 hash is stored; the key itself
    is shown once, when the token is created (``services.token_create``)."""

    name = models.CharField(_("name"), max_length=100, help_text=_("What the token is for, e.g. the partner system."))
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="api_tokens",
        help_text=_("Partner token: sees what this organisation is a party to."),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        help_text=_("Staff token: acts as this user, with their permissions."),
    )
    prefix = models.CharField(_("prefix"), max_length=12, editable=False, db_index=True)
    key_hash = models.CharField(_("key hash"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    history = HistoricalRecords(excluded_fields=["last_used_at"])

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints = [
            models.UniqueConstraint(fields=["key_hash"], name="apitoken_unique_key_hash"),
            models.CheckConstraint(
                condition=Q(organisation__isnull=False, user__isnull=True)
                | Q(organisation__isnull=True, user__isnull=False),
                name="apitoken_one_owner",
                violation_error_message=_("A token belongs either to an organisation or to a user."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def get_absolute_url(self) -> str:
        return reverse("admin:agreements_apitoken_change", args=[self.pk])

    def clean(self):
        super().clean()
        if self._state.adding and self.expires_at is not None and self.expires_at <= timezone.now():
            raise ValidationError({"expires_at": _("The expiry must lie in the future.")})
        if self.user_id and not (self.user.is_active and self.user.is_staff):
            raise ValidationError({"user": _("Only active staff users can have a staff token.")})

    @property
    def is_published(self) -> bool:
        """What the public may see (``PUBLISHED`` for one record)."""
        return self.is_public and self.status in AgreementStatus.concluded()

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
