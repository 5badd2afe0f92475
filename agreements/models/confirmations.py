"""Partner confirmation of the record: a party organisation states that the
agreement's content (``services.agreement_canonical``) is what it signed."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .base import RestrictedQuerySet
from .organisations import Organisation
from .tokens import ApiToken


class AgreementConfirmation(models.Model):
    """One confirmation (or its withdrawal) by a party, for one content hash.
    An organisation's latest row is its current word; it counts only while the
    agreement's content still has that hash (``services.agreement_confirmations``)."""

    agreement = models.ForeignKey(
        "Agreement", verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="confirmations"
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="confirmations"
    )
    content_hash = models.CharField(_("content hash (SHA-256)"), max_length=64)
    canonical = models.JSONField(_("confirmed content"), help_text=_("The canonical form the hash was taken of."))
    confirmed_at = models.DateTimeField(_("confirmed at"))
    token = models.ForeignKey(
        ApiToken, verbose_name=_("token"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawal_reason = models.TextField(_("reason for withdrawal"), blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["agreement_id", "organisation_id", "-confirmed_at", "-id"]
        verbose_name = _("confirmation")
        verbose_name_plural = _("confirmations")
        constraints = [
            models.CheckConstraint(
                condition=Q(content_hash__regex=r"^[0-9a-f]{64}$"),
                name="agreementconfirmation_hash_is_sha256",
                violation_error_message=_("A content hash is 64 lower-case hexadecimal digits (SHA-256)."),
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True) | ~Q(withdrawal_reason=""),
                name="agreementconfirmation_withdrawal_has_reason",
                violation_error_message=_("A withdrawal needs a reason."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.content_hash[:12]}"
