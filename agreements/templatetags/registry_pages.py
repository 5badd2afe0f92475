from html import escape

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def options(choices, selected=()):
    """``<option>`` elements for ``(value, label)`` pairs, the selected values
    marked. The list page has over a thousand of them (organisations,
    countries); a template loop, or ``format_html`` per option, spends tens of
    milliseconds on what this does in one or two."""
    chosen = set(selected or ())
    html = "".join(
        f'<option value="{escape(str(value))}"{" selected" if value in chosen else ""}>{escape(str(label))}</option>'
        for value, label in choices
    )
    return mark_safe(html)  # noqa: S308  # nosec B308 B703 - every value and label is escaped above
