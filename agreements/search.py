"""Search that finds: the same matching rule for every ``q`` (API, public
pages, downloads) and the admin's search boxes.

Text and query are *folded* — accents removed, case ignored — so "Śląsk",
"Slask" and "śląski" meet, and a query word matches anywhere inside a word:
"Kooperation" finds "Kooperationsvereinbarung", "vereinbarung" too, "Sili"
finds "Silesian" and "Silicon". Every word of the query must occur; a quoted
"phrase" must occur as written.

Folding is done by the database for stored text (``lower(unaccent(…))``:
PostgreSQL's contrib ``unaccent``, created by migration 0023; on SQLite
``unaccent`` is ``fold`` below, registered on every connection by
``AgreementsConfig``) and here for the query's words. The two agree for the
letters of German, Polish and the other Latin-script languages
(tests/test_search.py holds them equal on the database the tests run on).
"""

import re
import unicodedata

from django.db import models
from django.db.models import Func, Lookup
from django.db.models.functions import Coalesce, Lower

MAX_TERMS = 8

# Letters that are not a base letter plus a combining accent in Unicode
# (NFKD leaves them alone); PostgreSQL's unaccent.rules map them so.
_LETTERS = str.maketrans(
    {
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "Đ": "D",
        "ħ": "h",
        "Ħ": "H",
        "ı": "i",
        "ß": "ss",
        "ẞ": "SS",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
    }
)


def fold(text: str | None) -> str | None:
    """``text`` without accents, in lower case (SQLite's ``unaccent``)."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", str(text).translate(_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def register_sqlite_functions(sender, connection, **kwargs):
    """``connection_created`` receiver: SQLite gets ``unaccent`` as PostgreSQL has it."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("unaccent", 1, fold, deterministic=True)


class Unaccent(Func):
    function = "UNACCENT"
    output_field = models.TextField()


class Lines(Func):
    """Text expressions one per line, an empty one for NULL, as one flat
    ``a || '\n' || b …`` (SQLite's parser overflows on Concat's nesting)."""

    template = "(%(expressions)s)"
    arg_joiner = " || "
    output_field = models.TextField()

    def __init__(self, *expressions, **extra):
        parts = []
        for expression in expressions:
            if parts:
                parts.append(models.Value("\n"))
            parts.append(Coalesce(expression, models.Value(""), output_field=models.TextField()))
        super().__init__(*parts, **extra)


def folded(expression) -> Func:
    """The SQL of ``fold(expression)``, the same on PostgreSQL and SQLite."""
    return Lower(Unaccent(expression))


def terms(query: str) -> list[str]:
    """The folded words of a query ("quoted phrases" kept whole), at most
    ``MAX_TERMS``; a lone letter among longer words is dropped (noise that
    would match almost everything)."""
    found = [fold(" ".join(phrase.split()) or word) for phrase, word in re.findall(r'"([^"]*)"|(\S+)', query)]
    found = [term.strip('"') for term in found if term.strip('"')]
    if any(len(term) > 1 for term in found):
        found = [term for term in found if len(term) > 1]
    return list(dict.fromkeys(found))[:MAX_TERMS]


def phrase(query: str) -> str:
    """The whole query folded, as a title would read it."""
    return fold(" ".join(query.replace('"', " ").split()))


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@models.CharField.register_lookup
@models.TextField.register_lookup
class FoldedContains(Lookup):
    """``field__folded="Śląsk"``: the field, folded, contains the folded value.
    The admin's ``search_fields`` name fields with it (``"name__folded"``)."""

    lookup_name = "folded"
    fold_lhs = True

    def get_db_prep_lookup(self, value, connection):
        return "%s", [f"%{escape_like(fold(str(value)))}%"]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if self.fold_lhs:
            lhs = f"LOWER(UNACCENT({lhs}))"
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} LIKE {rhs} ESCAPE '\\'", [*lhs_params, *rhs_params]


class SearchTextField(models.TextField):
    """Text stored folded (``Agreement.search_text``): ``__folded`` compares it
    as it is, so the trigram index (migration 0023) serves the match."""


@SearchTextField.register_lookup
class PrefoldedContains(FoldedContains):
    fold_lhs = False


def in_any(fields: list[str], term: str) -> models.Q:
    """One folded ``term`` in one of ``fields`` (folded on both sides)."""
    condition = models.Q()
    for field in fields:
        condition |= models.Q(**{f"{field}__folded": term})
    return condition


def matching(fields: list[str], query: str) -> models.Q:
    """Every word of ``query`` in one of ``fields``; an empty query matches everything."""
    condition = models.Q()
    for term in terms(query):
        condition &= in_any(fields, term)
    return condition


def folded_fields(*names: str) -> list[str]:
    """The admin's ``search_fields`` for ``names``, matched as ``q`` is (``__folded``)."""
    return [f"{name}__folded" for name in names]
