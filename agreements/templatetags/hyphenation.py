"""Soft hyphens in long German compounds, for text shown on a page.

At 320 px a heading such as "Kooperationsvereinbarungen" is wider than the
screen. Browsers hyphenate only with a dictionary for the language, and
Debian's Chromium (like many others) ships none, so the word would be cut at
the edge of the screen. A soft hyphen (U+00AD) marks where the word may break;
the browser shows a hyphen there only if it breaks the line there.

Only the visible text gets them: ``<title>``, meta tags, the sitemap, feeds,
downloads, the API and search read the stored text, which has none.
"""

import re

from django import template
from django.utils.safestring import SafeData, mark_safe

register = template.Library()

SOFT_HYPHEN = "\u00ad"

# The first parts of the long compounds in the registry's German (its interface
# and its records), each with its joining "s" where it takes one: a word is
# broken after such a part when a part of at least four letters follows.
# A long word made of other parts still breaks at the edge (site.css:
# overflow-wrap), just not at a hyphen.
HEADS = (
    "absichts",
    "automobil",
    "barrierefreiheits",
    "datenschutz",
    "delegations",
    "digitalisierungs",
    "entwicklungs",
    "informations",
    "kooperations",
    "lieferketten",
    "partner",
    "software",
    "transformations",
    "unterzeichnungs",
    "vereinbarungs",
    "verwaltungs",
    "zulieferer",
)
SHORTEST_REST = 4
LONG_WORD = re.compile(r"\w{12,}")
TAG = re.compile(r"(<[^>]*>)")


def _hyphenate_word(match: re.Match) -> str:
    word = match.group(0)
    parts, start = [], 0
    while True:
        rest = word[start:].lower()
        head = next((h for h in HEADS if rest.startswith(h) and len(rest) - len(h) >= SHORTEST_REST), None)
        if head is None:
            break
        parts.append(word[start : start + len(head)])
        start += len(head)
    return SOFT_HYPHEN.join([*parts, word[start:]])


def soft_hyphenate(text: str) -> str:
    """``text`` with soft hyphens between the parts of its long compounds
    (outside HTML tags, so markup and attribute values stay as they are)."""
    return "".join(
        piece if piece.startswith("<") else LONG_WORD.sub(_hyphenate_word, piece) for piece in TAG.split(text)
    )


@register.filter(is_safe=True)
def soft_hyphens(text):
    """``{{ title|soft_hyphens }}``: breakable long compounds (see the module)."""
    if text is None or text == "":
        return text
    hyphenated = soft_hyphenate(str(text))
    return mark_safe(hyphenated) if isinstance(text, SafeData) else hyphenated  # noqa: S308  # nosec B308 B703
