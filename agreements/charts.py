"""Charts drawn on the server as SVG that assistive technology can read: one
image (role="img") with a title and a text alternative, bars labelled in
text; the page shows the same numbers as a table beside each chart. No
script, nothing from other hosts."""

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

WIDTH = 640
LABEL_WIDTH = 250
BAR_HEIGHT = 18
GAP = 8
MAX_LABEL = 34  # characters; the table beside the chart has the full text


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1].rstrip() + "…"


def text_alternative(rows: list[tuple[str, int]]) -> str:
    """What the chart shows, in a sentence: the number of bars and the largest."""
    if not rows:
        return _("No data.")
    largest = max(rows, key=lambda row: row[1])
    return ngettext(
        "%(count)d bar; the largest is %(label)s with %(value)d.",
        "%(count)d bars; the largest is %(label)s with %(value)d.",
        len(rows),
    ) % {"count": len(rows), "label": largest[0], "value": largest[1]}


def bar_chart(element_id: str, title: str, rows: list[tuple[str, int]]) -> SafeString:
    """A horizontal bar chart of (label, value) rows."""
    title_id, desc_id = f"{element_id}-title", f"{element_id}-desc"
    height = max(1, len(rows)) * (BAR_HEIGHT + GAP) + GAP
    largest = max((value for _label, value in rows), default=0) or 1
    room = WIDTH - LABEL_WIDTH - 60  # space for the longest bar and its number
    parts = [
        f'<svg class="chart" id="{escape(element_id)}" role="img" aria-labelledby="{title_id} {desc_id}" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(text_alternative(rows))}</desc>',
    ]
    for index, (label, value) in enumerate(rows):
        y = GAP + index * (BAR_HEIGHT + GAP)
        length = max(1, round(room * value / largest)) if value else 0
        middle = y + BAR_HEIGHT / 2
        parts.append(
            f'<text class="chart-label" x="{LABEL_WIDTH - 8}" y="{middle}" text-anchor="end" '
            f'dominant-baseline="middle">{escape(_short(str(label)))}</text>'
            f'<rect class="chart-bar" x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}"/>'
            f'<text class="chart-value" x="{LABEL_WIDTH + length + 6}" y="{middle}" '
            f'dominant-baseline="middle">{value}</text>'
        )
    parts.append("</svg>")
    # Every text in it is escaped above (bandit B308/B703 reviewed).
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703
