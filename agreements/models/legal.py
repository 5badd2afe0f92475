"""The legal pages: legal notice (Impressum), privacy notice and accessibility
statement (BITV 2.0), in three languages, edited by registry administrators."""

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..choices import LegalPageKind
from .base import RestrictedQuerySet, TimeStampedModel, language_field, some_translation, translated

BODY_HELP = _(
    "Markdown: a blank line starts a paragraph, “## ” a heading, “- ” a list item, "
    "[text](https://…) a link, <name@example.org> an e-mail address. HTML is shown as text."
)


class LegalPage(TimeStampedModel):
    """One page per kind; the site links every kind from its footer. The body
    is Markdown, rendered without raw HTML (``agreements.legal.render_body``)."""

    kind = models.CharField(_("kind"), max_length=20, choices=LegalPageKind.choices)
    title = translated(models.CharField(_("title"), max_length=200))
    body = translated(models.TextField(_("text"), help_text=BODY_HELP))
    language = language_field()
    history = HistoricalRecords()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["kind"]
        verbose_name = _("legal page")
        verbose_name_plural = _("legal pages")
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                name="legalpage_unique_kind",
                violation_error_code="unique",
                violation_error_message=_("There is already a page of this kind."),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=LegalPageKind.values),
                name="legalpage_known_kind",
                violation_error_message=_("Unknown kind of page."),
            ),
            models.CheckConstraint(
                condition=some_translation("title"),
                name="legalpage_has_title",
                violation_error_message=_("Give the title in at least one language."),
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.get_kind_display()

    def get_absolute_url(self) -> str:
        return reverse(f"agreements:{self.kind}")
