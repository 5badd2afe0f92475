"""Shared pieces of the registry's models: texts in three languages with
fallback to the original, dates with precision, timestamps, the restricted
queryset every model's rows start from."""

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from translated_fields import TranslatedField, to_attribute

from ..choices import (
    DatePrecision,
    TextLanguage,
)

if TYPE_CHECKING:
    from ..access import Viewer


class LocalizedText(str):
    """A text that knows the language it is written in: the active one, or the
    one a missing translation fell back to. Pages mark a text whose language
    is not the page's (``{{ text|lang }}``, WCAG 3.1.2)."""

    language: str

    def __new__(cls, value: str, language: str):
        text = super().__new__(cls, value)
        text.language = language
        return text

    def __reduce__(self):  # cached (pickled) page parts keep the language
        return (LocalizedText, (str(self), self.language))


def localized(obj, name: str, languages=tuple(TextLanguage.values)) -> str:
    """``obj``'s text ``name`` in the active language, else in the record's
    original language, else in any: a ``LocalizedText`` saying which, or "".
    Works for anything with ``<name>_<language>`` attributes (models, their
    history records)."""
    return pick_translation(
        lambda language: getattr(obj, to_attribute(name, language), ""), getattr(obj, "language", None), languages
    )


def pick_translation(text_in, original: str | None, languages=tuple(TextLanguage.values), active=None) -> str:
    """The fallback rule itself: ``text_in(language)`` for the active language
    (``active``, when the caller has read it already), else the ``original``
    one, else any (``localized`` for model instances, ``agreements.api.rows``
    for plain rows)."""
    active = active or (get_language() or languages[0]).split("-")[0]
    for language in (active, original, *languages):
        if language in languages:
            value = text_in(language)
            if value:
                return LocalizedText(value, language)
    return ""


def fallback_to_original(name, field):
    """Attribute getter: active language, else the record's original, else any."""

    def getter(obj):
        return localized(obj, name, field.languages)

    return getter


def translated(field: models.Field) -> TranslatedField:
    """All languages optional at field level; models check that one is filled."""
    return TranslatedField(
        field, {lang: {"blank": True} for lang in TextLanguage.values}, attrgetter=fallback_to_original
    )


def some_translation(name: str) -> Q:
    """A Q that is true when at least one language of ``name`` has text."""
    condition = Q()
    for language in TextLanguage.values:
        condition |= ~Q(**{to_attribute(name, language): ""})
    return condition


def precision_matches(date_field: str, precision_field: str) -> Q:
    """A month-precise date is the 1st of its month; a year-precise one 1 January."""
    return (
        Q(**{f"{date_field}__isnull": True})
        | Q(**{precision_field: DatePrecision.DAY})
        | Q(**{precision_field: DatePrecision.MONTH, f"{date_field}__day": 1})
        | Q(**{precision_field: DatePrecision.YEAR, f"{date_field}__day": 1, f"{date_field}__month": 1})
    )


def language_field() -> models.CharField:
    return models.CharField(
        _("original language"),
        max_length=2,
        choices=TextLanguage.choices,
        default=TextLanguage.DE,
        help_text=_("Language the texts were first written in; missing translations fall back to it."),
    )


def outside_trip(trip) -> str:
    return _("The date must lie within the trip (%(start)s to %(end)s).") % {
        "start": trip.start_date,
        "end": trip.end_date,
    }


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    class Meta:
        abstract = True


class RestrictedQuerySet(models.QuerySet):
    """Every registry model's rows, narrowed by the one access seam
    (``agreements.access``, which holds the rules and imports this module)."""

    def restrict(self, viewer: "Viewer", action: str = "view"):
        """The rows ``viewer`` may ``action`` ("view" or "change")."""
        from ..access import restrict  # the rules module imports the models

        return restrict(self, viewer, action)

    def visible_to(self, viewer: "Viewer"):
        return self.restrict(viewer, "view")

    def editable_by(self, viewer: "Viewer"):
        return self.restrict(viewer, "change")
