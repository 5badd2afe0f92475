"""Documents (signed scans, translations, annexes) and source links of agreements."""

import hashlib
import secrets

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..choices import (
    DocumentKind,
    SourceKind,
    TextLanguage,
)
from ..validators import DOCUMENT_TYPES, detect_document_type, validate_document_file
from .base import RestrictedQuerySet, TimeStampedModel


def document_upload_to(instance: "AgreementDocument", filename: str) -> str:
    """A generated name: nothing of the uploader's file name reaches storage,
    and the name can't be guessed from the agreement or the title."""
    extension = DOCUMENT_TYPES.get(instance.content_type, "")
    return f"agreement-documents/{timezone.now():%Y}/{secrets.token_hex(16)}{extension}"


def file_sha256(file) -> str:
    """The SHA-256 of a file's bytes (read in chunks), as lower-case hex."""
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


class AgreementDocument(TimeStampedModel):
    agreement = models.ForeignKey(
        "Agreement", verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="documents"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=DocumentKind.choices)
    title = models.CharField(_("title"), max_length=250)
    file = models.FileField(
        _("file"),
        upload_to=document_upload_to,
        max_length=200,
        validators=[validate_document_file],
        help_text=_("PDF, PNG or JPEG."),
    )
    content_type = models.CharField(_("content type"), max_length=40, editable=False)
    size = models.PositiveBigIntegerField(_("size in bytes"), editable=False, default=0)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, editable=False, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=TextLanguage.choices, blank=True)
    is_public = models.BooleanField(_("public"), default=False)
    history = HistoricalRecords()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["agreement_id", "kind", "id"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=DocumentKind.values),
                name="agreementdocument_kind_valid",
                violation_error_message=_("Unknown kind of document."),
            ),
            models.CheckConstraint(
                condition=Q(content_type__in=list(DOCUMENT_TYPES)),
                name="agreementdocument_content_type_valid",
                violation_error_message=_("Documents are PDF, PNG or JPEG files."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        if self.file and not self.file._committed:
            # A new upload: what it is comes from its content (validated in
            # full_clean; a caller skipping that still can't store another kind,
            # the check constraint refuses it).
            self.content_type = detect_document_type(self.file) or ""
            self.size = self.file.size
            self.sha256 = file_sha256(self.file)
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "content_type", "size", "sha256"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("agreements:document_download", kwargs={"pk": self.pk})

    @property
    def file_format(self) -> str:
        """The format for readers: PDF, PNG or JPG."""
        return DOCUMENT_TYPES.get(self.content_type, "").lstrip(".").upper()

    @property
    def download_name(self) -> str:
        """The file name a download is offered under: from the title, never the stored name."""
        return (slugify(self.title) or "document") + DOCUMENT_TYPES.get(self.content_type, "")


class AgreementSource(models.Model):
    agreement = models.ForeignKey(
        "Agreement", verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="sources"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=SourceKind.choices, default=SourceKind.PRESS_RELEASE)
    title = models.CharField(_("title"), max_length=300)
    url = models.URLField(_("address"), max_length=500)
    publisher = models.CharField(_("publisher"), max_length=200, blank=True)
    published_on = models.DateField(_("published on"), null=True, blank=True)
    history = HistoricalRecords()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["agreement_id", "published_on", "id"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "url"],
                name="agreementsource_unique_url",
                violation_error_message=_("This source is already listed for the agreement."),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=SourceKind.values),
                name="agreementsource_kind_valid",
                violation_error_message=_("Unknown kind of source."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return self.agreement.get_absolute_url()
