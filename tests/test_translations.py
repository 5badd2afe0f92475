"""The interface is complete in German, English and Polish."""

from pathlib import Path

import polib
import pytest

LOCALE = Path(__file__).resolve().parent.parent / "locale"


@pytest.mark.parametrize("language", ["de", "en", "pl"])
def test_catalogue_is_complete_and_compiled(language):
    po = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    assert len(po) > 250
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []
    assert [e.msgid for e in po if e.msgid_plural and not all(e.msgstr_plural.values())] == []
    # The committed .mo holds exactly what the .po says.
    mo = polib.mofile(str(LOCALE / language / "LC_MESSAGES" / "django.mo"))
    assert {(e.msgctxt, e.msgid): (e.msgstr, dict(e.msgstr_plural)) for e in po.translated_entries()} == {
        (e.msgctxt, e.msgid): (e.msgstr, {int(k): v for k, v in e.msgstr_plural.items()}) for e in mo
    }


def test_placeholders_survive_translation():
    import re

    for language in ("de", "pl"):
        po = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
        for entry in po:
            wanted = set(re.findall(r"%\(\w+\)[sd]", entry.msgid))
            for text in [entry.msgstr, *entry.msgstr_plural.values()]:
                if text:
                    assert set(re.findall(r"%\(\w+\)[sd]", text)) == wanted, (language, entry.msgid)


# --------------------------------------------------------------------------
# Every message a page can show is translated: ours in every template (public
# pages, the admin templates we own or override), and the messages of Django
# and the apps the admin and the API use wherever their own catalogues lack
# German or Polish (Polish would otherwise fall back to German: the default
# language is the fallback of every other).

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
TEMPLATE_FILES = sorted(path.relative_to(TEMPLATES).as_posix() for path in TEMPLATES.rglob("*.html"))


def template_messages(path: Path) -> set[tuple[str | None, str]]:
    """(context, msgid) of every {% translate %} and {% blocktranslate %} in a
    template, as makemessages extracts them."""
    import ast
    import re

    from django.utils.translation.template import templatize

    strings = r"((?:\s*u'(?:[^'\\]|\\.)*'\s*,?)+)"
    found = set()
    for function, arguments in re.findall(r"\b(n?p?gettext)\(" + strings, templatize(path.read_text(), str(path))):
        texts = [ast.literal_eval(text) for text in re.findall(r"u('(?:[^'\\]|\\.)*')", arguments)]
        context = texts.pop(0) if function.startswith(("p", "np")) else None
        found.add((context, texts[0]))
    return found


def test_template_messages_are_found():
    messages = template_messages(TEMPLATES / "agreements" / "trip_detail.html")
    assert (None, "Programme") in messages
    assert (None, "about %(counter)s member") in messages
    assert any(path.startswith("admin/") for path in TEMPLATE_FILES)


@pytest.mark.parametrize("language", ["de", "pl"])
@pytest.mark.parametrize("template", TEMPLATE_FILES)
def test_every_template_message_is_translated(template, language):
    po = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    translated = {(e.msgctxt, e.msgid) for e in po.translated_entries() if not e.fuzzy}
    assert sorted(template_messages(TEMPLATES / template) - translated, key=str) == []


@pytest.mark.parametrize(
    ("language", "counts"),
    [
        ("de", {1: "1 Vereinbarung", 2: "2 Vereinbarungen", 5: "5 Vereinbarungen", 0: "0 Vereinbarungen"}),
        (
            "pl",
            {
                1: "1 umowa",
                2: "2 umowy",
                4: "4 umowy",
                5: "5 umów",
                12: "12 umów",
                21: "21 umów",
                22: "22 umowy",
                25: "25 umów",
                0: "0 umów",
            },
        ),
    ],
)
def test_counts_take_the_plural_form_of_the_language(language, counts):
    from django.utils import translation

    with translation.override(language):
        shown = {
            n: translation.ngettext("%(counter)s agreement", "%(counter)s agreements", n) % {"counter": n}
            for n in counts
        }
    assert shown == counts


def vendor_messages(locale: Path, domain: str = "django") -> set:
    """The catalogue keys of a package's messages: its English catalogue, or,
    where it ships none, every message its German and Polish ones know."""

    def load(language):
        path = locale / language / "LC_MESSAGES" / domain
        if path.with_suffix(".po").exists():
            return polib.pofile(str(path.with_suffix(".po")))
        return polib.mofile(str(path.with_suffix(".mo"))) if path.with_suffix(".mo").exists() else []

    sources = ["en"] if (locale / "en").exists() else ["de", "pl"]
    keys = set()
    for entry in (entry for language in sources for entry in load(language)):
        if entry.msgid:
            key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
            keys.add((key, 0) if entry.msgid_plural else key)
    return keys


THIRD_PARTY = [
    "django.conf",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "django_filters",
    "import_export",
    "simple_history",
    "axes",
    "django_otp",
    "django_countries",
]


# Messages of pages the registry does not use: django-otp's own admin login
# (otp/admin111/login.html; ours is templates/admin/login.html).
NOT_SHOWN = {
    "django_otp": {
        "Forgotten your password or username?",
        "Please correct the error below.",
        "Please correct the errors below.",
    },
}


@pytest.mark.parametrize("language", ["de", "pl"])
@pytest.mark.parametrize("package", THIRD_PARTY)
def test_third_party_messages_are_translated(package, language):
    import importlib

    from django.utils.translation import trans_real

    locale = Path(importlib.import_module(package).__file__).parent / "locale"
    catalogue = trans_real.translation(language)._catalog  # the merged catalogues, without the fallback
    missing = vendor_messages(locale) - NOT_SHOWN.get(package, set())
    assert sorted(key for key in missing if key not in catalogue) == []


@pytest.mark.parametrize("language", ["de", "pl"])
def test_admin_javascript_messages_are_translated(language):
    import django.contrib.admin
    from django.utils.translation.trans_real import DjangoTranslation

    locale = Path(django.contrib.admin.__file__).parent / "locale"
    # As the admin's JavaScriptCatalog builds it: the app's catalogue, then LOCALE_PATHS.
    catalogue = DjangoTranslation(language, domain="djangojs", localedirs=[str(locale)])._catalog
    assert sorted(key for key in vendor_messages(locale, "djangojs") if key not in catalogue) == []


GETTEXT_FUNCTIONS = {
    "_": (None, 0),
    "gettext": (None, 0),
    "gettext_lazy": (None, 0),
    "gettext_noop": (None, 0),
    "ngettext": (None, 0),
    "ngettext_lazy": (None, 0),
    "pgettext": (0, 1),
    "pgettext_lazy": (0, 1),
    "npgettext": (0, 1),
    "npgettext_lazy": (0, 1),
}
CODE = Path(__file__).resolve().parent.parent


def code_messages(path: Path) -> set[tuple[str | None, str]]:
    """(context, msgid) of every gettext call with literal text in a module."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in GETTEXT_FUNCTIONS:
            context_at, msgid_at = GETTEXT_FUNCTIONS[node.func.id]
            arguments = [
                arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None for arg in node.args
            ]
            if len(arguments) > msgid_at and arguments[msgid_at] is not None:
                found.add((None if context_at is None else arguments[context_at], arguments[msgid_at]))
    return found


CODE_FILES = sorted(
    path.relative_to(CODE).as_posix()
    for package in ("agreements", "registry")
    for path in (CODE / package).rglob("*.py")
    if "migrations" not in path.parts
)


@pytest.mark.parametrize("language", ["de", "pl"])
def test_every_message_in_the_code_is_translated(language):
    po = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    translated = {(e.msgctxt, e.msgid) for e in po.translated_entries() if not e.fuzzy}
    missing = {path: sorted(code_messages(CODE / path) - translated, key=str) for path in CODE_FILES}
    assert {path: messages for path, messages in missing.items() if messages} == {}
