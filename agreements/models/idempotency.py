"""Answers kept for ``Idempotency-Key``: a retried POST gets the first answer."""

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# How long a key is remembered; a retry after that is a new request.
IDEMPOTENCY_KEY_TTL = datetime.timedelta(hours=24)


class IdempotencyKeyQuerySet(models.QuerySet):
    def expired(self):
        return self.filter(created_at__lt=timezone.now() - IDEMPOTENCY_KEY_TTL)


class IdempotencyKey(models.Model):
    """A key a writer sent with a POST, what the request was (a digest of its
    method, path and body) and the answer it got. Stored in the transaction
    of the write itself, so a key names a committed write or nothing."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(_("key"), max_length=255)
    request_digest = models.CharField(_("request digest"), max_length=64)
    status = models.PositiveSmallIntegerField(_("status"))
    content_type = models.CharField(_("content type"), max_length=100)
    content = models.BinaryField(_("content"))
    location = models.CharField(_("location"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    objects = IdempotencyKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotencykey_unique_per_user")]

    def __str__(self) -> str:
        return self.key
