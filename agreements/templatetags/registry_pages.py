from html import escape

from django import template
from django.template.defaultfilters import linebreaksbr
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from agreements.models.base import LocalizedText

register = template.Library()


def other_language(text) -> str | None:
    """The language of ``text`` (a ``LocalizedText``) when it is not the page's."""
    language = getattr(text, "language", None)
    active = (get_language() or "").split("-")[0]
    return language if language and language != active else None


@register.filter(needs_autoescape=True)
def lang(text, line_breaks="", autoescape=True):
    """A translated text, in an element marked with its language when a missing
    translation fell back to another one (WCAG 3.1.2: a German title on a
    Polish page is ``<span lang="de">``). ``|lang:"br"`` keeps line breaks."""
    html = linebreaksbr(text, autoescape) if line_breaks else conditional_escape(text) if autoescape else text
    language = other_language(text)
    return format_html('<span lang="{}">{}</span>', language, html) if language else html


def _counted(label, count: int):
    """``label (count)``, still in the label's language."""
    language = getattr(label, "language", None)
    text = f"{label} ({count})"
    return LocalizedText(text, language) if language else text


@register.simple_tag
def options(choices, selected=(), counts=None):
    """``<option>`` elements for ``(value, label)`` pairs, the selected values
    marked, a label in another language than the page's marked with it, and
    with ``counts`` (a dict: value → number) the number after each label. The
    list page has over a thousand of them (organisations, countries); a
    template loop, or ``format_html`` per option, spends tens of milliseconds
    on what this does in one or two."""
    chosen = set(selected or ())
    active = (get_language() or "").split("-")[0]

    def attributes(value, label) -> str:
        language = getattr(label, "language", None)
        marked = f' lang="{language}"' if language and language != active else ""
        return f"{' selected' if value in chosen else ''}{marked}"

    if isinstance(counts, dict):
        choices = [(value, _counted(label, counts.get(str(value), 0))) for value, label in choices]
    html = "".join(
        f'<option value="{escape(str(value))}"{attributes(value, label)}>{escape(str(label))}</option>'
        for value, label in choices
    )
    return mark_safe(html)  # noqa: S308  # nosec B308 B703 - every value and label is escaped above
