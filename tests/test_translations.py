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
