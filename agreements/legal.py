"""The legal pages' text: Markdown rendered without raw HTML, and the first
texts a new registry starts with (registry administrators replace the example
operator, address and dates in the admin).

The first texts are written when the database is migrated (``post_migrate``,
as Django's sites framework makes its default site), for each kind that has
no page yet: a fresh installation, and a test database after each flush,
always have all three pages; a page staff edited is never touched.
"""

from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

from .choices import LegalPageKind

# CommonMark with tables; "html": False shows raw HTML as text, and links to
# javascript:, vbscript:, file: and data: addresses are not made links.
_MARKDOWN = MarkdownIt("js-default", {"html": False, "linkify": False, "typographer": False})
CHANGE_REASON = "first text"


def render_body(text: str) -> SafeString:
    """``text`` (Markdown) as HTML. The page's title is its one ``<h1>``: the
    text's highest headings become ``<h2>``, the others keep their steps below."""
    tokens = _MARKDOWN.parse(text or "")
    headings = [token for token in tokens if token.type in {"heading_open", "heading_close"}]
    shift = 2 - min((int(token.tag[1]) for token in headings), default=2)
    for token in headings:
        token.tag = f"h{min(int(token.tag[1]) + shift, 6)}"
    html = _MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {})
    # markdown-it escapes every text and, with html off, every tag the text holds (bandit B308 reviewed).
    return mark_safe(html)  # noqa: S308  # nosec B308 B703


OPERATOR = {
    "de": "Musterbehörde für regionale Zusammenarbeit (Beispiel: im Admin durch die betreibende Stelle ersetzen)",
    "en": "Example Authority for Regional Cooperation (an example: replace it with the operator in the admin)",
    "pl": "Przykładowy Urząd ds. Współpracy Regionalnej (przykład: zastąpić w panelu administracyjnym)",
}
ADDRESS = "Musterstraße 1\\\n01067 Dresden\\\n"
EMAIL = "registry@example.org"
PRIVACY_EMAIL = "datenschutz@example.org"
ACCESSIBILITY_EMAIL = "barrierefreiheit@example.org"
PHONE = "+49 351 000000-0"
SCHLICHTUNGSSTELLE = (
    "Schlichtungsstelle nach dem Behindertengleichstellungsgesetz\\\n"
    "bei dem Beauftragten der Bundesregierung für die Belange von Menschen mit Behinderungen\\\n"
    "Mauerstraße 53\\\n10117 Berlin\\\n"
    "Telefon: +49 30 18 527-2805\\\n"
    "E-Mail: <info@schlichtungsstelle-bgg.de>\\\n"
    "Internet: <https://www.schlichtungsstelle-bgg.de>"
)

IMPRINT = {
    "title_de": "Impressum",
    "title_en": "Legal notice",
    "title_pl": "Nota prawna",
    "body_de": f"""## Herausgeber

{OPERATOR["de"]}\\
{ADDRESS}Deutschland

Telefon: {PHONE}\\
E-Mail: <{EMAIL}>

## Vertreten durch

die Leitung der Behörde (Name im Admin eintragen).

## Inhaltlich verantwortlich

Redaktion des Kooperationsvereinbarungsregisters, Anschrift wie oben.

## Hinweise

Die Angaben zu Vereinbarungen beruhen auf den genannten Quellen (Pressemitteilungen, Berichte, unterzeichnete
Dokumente). Für die Inhalte verlinkter Seiten anderer Anbieter sind deren Betreiber verantwortlich.

Die öffentlichen Daten des Registers stehen als CSV, JSON und über die REST-API zur Verfügung.
""",
    "body_en": f"""## Published by

{OPERATOR["en"]}\\
{ADDRESS}Germany

Telephone: {PHONE}\\
E-mail: <{EMAIL}>

## Represented by

the head of the authority (enter the name in the admin).

## Responsible for the content

The editors of the Cooperation Agreement Registry, address as above.

## Notes

What the registry says about agreements rests on the sources it names (press releases, reports, signed documents).
The operators of linked pages of other providers are responsible for their content.

The registry's public data is available as CSV, JSON and through the REST API.
""",
    "body_pl": f"""## Wydawca

{OPERATOR["pl"]}\\
{ADDRESS}Niemcy

Telefon: {PHONE}\\
E-mail: <{EMAIL}>

## Reprezentowany przez

kierownictwo urzędu (nazwisko należy wpisać w panelu administracyjnym).

## Odpowiedzialni za treść

Redakcja Rejestru Umów o Współpracy, adres jak wyżej.

## Uwagi

Informacje o umowach opierają się na wskazanych źródłach (komunikaty prasowe, sprawozdania, podpisane dokumenty).
Za treść stron innych podmiotów, do których prowadzą odnośniki, odpowiadają ich operatorzy.

Publiczne dane rejestru są dostępne w formatach CSV i JSON oraz przez REST API.
""",
}

PRIVACY = {
    "title_de": "Datenschutzerklärung",
    "title_en": "Privacy notice",
    "title_pl": "Informacja o ochronie danych",
    "body_de": f"""## Verantwortliche Stelle

{OPERATOR["de"]}\\
{ADDRESS}E-Mail: <{EMAIL}>

Datenschutzbeauftragte oder Datenschutzbeauftragter: <{PRIVACY_EMAIL}>, Anschrift wie oben.

## Besuch der öffentlichen Seiten

Die öffentlichen Seiten setzen keine Cookies, binden nichts von anderen Servern ein und verwenden keine
Analyse- oder Tracking-Werkzeuge. Beim Aufruf verarbeitet der Server technisch notwendige Angaben (IP-Adresse,
Zeitpunkt, aufgerufene Adresse, Browserkennung), um die Seiten auszuliefern und vor Missbrauch zu schützen
(Art. 6 Abs. 1 lit. e DSGVO). Protokolle werden nach spätestens 14 Tagen gelöscht.

## Personen im Register

Das Register nennt Personen (etwa Unterzeichnende und Mitglieder von Delegationen) mit Name und Funktion, soweit
sie in amtlicher Funktion gehandelt haben und als öffentlich markiert sind (Art. 6 Abs. 1 lit. e DSGVO).
Andere Personen erscheinen nicht auf öffentlichen Seiten.

## Zugänge für Mitarbeitende und Partner

Für Konten der Verwaltung werden Name, E-Mail-Adresse, Anmeldungen und die Änderungshistorie gespeichert;
Partnerorganisationen erhalten API-Schlüssel, die nur als Hash gespeichert werden.

## Ihre Rechte

Sie haben das Recht auf Auskunft, Berichtigung, Löschung, Einschränkung der Verarbeitung und Widerspruch
(Art. 15 bis 21 DSGVO). Wenden Sie sich dazu an <{PRIVACY_EMAIL}>. Sie können sich außerdem bei der zuständigen
Datenschutz-Aufsichtsbehörde beschweren (Art. 77 DSGVO).
""",
    "body_en": f"""## Controller

{OPERATOR["en"]}\\
{ADDRESS}E-mail: <{EMAIL}>

Data protection officer: <{PRIVACY_EMAIL}>, address as above.

## Visiting the public pages

The public pages set no cookies, load nothing from other servers and use no analytics or tracking tools. When a
page is requested, the server processes what is technically necessary (IP address, time, address requested,
browser identification) to deliver the pages and protect them from misuse (Art. 6(1)(e) GDPR). Logs are deleted
after 14 days at the latest.

## People in the registry

The registry names people (such as signatories and members of delegations) with their name and position where
they acted in an official capacity and are marked public (Art. 6(1)(e) GDPR). Other people do not appear on
public pages.

## Accounts of staff and partners

For staff accounts, name, e-mail address, logins and the change history are stored; partner organisations get
API keys, which are stored only as hashes.

## Your rights

You have the right of access, rectification, erasure, restriction of processing and to object (Art. 15 to 21
GDPR). Write to <{PRIVACY_EMAIL}>. You may also lodge a complaint with the competent data protection supervisory
authority (Art. 77 GDPR).
""",
    "body_pl": f"""## Administrator danych

{OPERATOR["pl"]}\\
{ADDRESS}E-mail: <{EMAIL}>

Inspektor ochrony danych: <{PRIVACY_EMAIL}>, adres jak wyżej.

## Odwiedzanie stron publicznych

Strony publiczne nie zapisują plików cookie, nie wczytują niczego z innych serwerów i nie używają narzędzi
analitycznych ani śledzących. Przy wywołaniu strony serwer przetwarza dane technicznie niezbędne (adres IP, czas,
wywołany adres, identyfikator przeglądarki), aby dostarczyć strony i chronić je przed nadużyciami (art. 6 ust. 1
lit. e RODO). Dzienniki są usuwane najpóźniej po 14 dniach.

## Osoby w rejestrze

Rejestr podaje osoby (np. sygnatariuszy i członków delegacji) z imieniem, nazwiskiem i funkcją, o ile działały
w charakterze urzędowym i są oznaczone jako publiczne (art. 6 ust. 1 lit. e RODO). Inne osoby nie pojawiają się
na stronach publicznych.

## Konta pracowników i partnerów

Dla kont administracji przechowywane są imię i nazwisko, adres e-mail, logowania i historia zmian; organizacje
partnerskie otrzymują klucze API przechowywane wyłącznie jako skróty (hash).

## Twoje prawa

Przysługuje Ci prawo dostępu, sprostowania, usunięcia, ograniczenia przetwarzania i sprzeciwu (art. 15–21 RODO).
Napisz na adres <{PRIVACY_EMAIL}>. Możesz też wnieść skargę do właściwego organu nadzorczego (art. 77 RODO).
""",
}

ACCESSIBILITY = {
    "title_de": "Erklärung zur Barrierefreiheit",
    "title_en": "Accessibility statement",
    "title_pl": "Deklaracja dostępności",
    "body_de": f"""{OPERATOR["de"]} ist bemüht, das Kooperationsvereinbarungsregister im Einklang mit der
Barrierefreie-Informationstechnik-Verordnung (BITV 2.0) und der Richtlinie (EU) 2016/2102 barrierefrei zugänglich
zu machen. Diese Erklärung gilt für die öffentlichen Seiten des Registers in deutscher, englischer und polnischer
Sprache.

## Stand der Vereinbarkeit mit den Anforderungen

Die öffentlichen Seiten sind **teilweise barrierefrei**: Sie erfüllen die Anforderungen der BITV 2.0
(WCAG 2.1, Stufe AA) weitgehend; die unten genannten Inhalte sind noch nicht barrierefrei.

## Nicht barrierefreie Inhalte

- Eingescannte Vereinbarungen (PDF) sind Bilder ohne Textebene; Titel, Zusammenfassung, Parteien und Daten jeder
  Vereinbarung stehen als Text auf ihrer Seite.
- Bei 320 Pixel Breite brechen einige lange deutsche Wörter nicht um, sodass seitlich gescrollt werden muss.
- Die Verwaltungsoberfläche für Mitarbeitende hat noch Formularfelder ohne eindeutige Beschriftung.

## Erstellung dieser Erklärung

Diese Erklärung wurde am 1. Dezember 2026 erstellt. Grundlage ist eine Selbstbewertung mit automatischen Prüfungen
(axe-core in Chromium für jeden Seitentyp in allen drei Sprachen) und manuellen Prüfungen mit Tastatur.

## Feedback und Kontakt

Sind Ihnen Mängel beim barrierefreien Zugang aufgefallen? Oder benötigen Sie Inhalte in einer zugänglichen Form?
Wenden Sie sich an:

{OPERATOR["de"]}\\
{ADDRESS}E-Mail: <{ACCESSIBILITY_EMAIL}>\\
Telefon: {PHONE}

Wir antworten innerhalb von sechs Wochen.

## Schlichtungsverfahren

Wenn auch nach Ihrem Feedback an den oben genannten Kontakt keine zufriedenstellende Lösung gefunden wurde, können
Sie sich an die Schlichtungsstelle nach § 16 Behindertengleichstellungsgesetz (BGG) wenden. Die Schlichtungsstelle
hat die Aufgabe, bei Konflikten zwischen Menschen mit Behinderungen und öffentlichen Stellen des Bundes eine
außergerichtliche Streitbeilegung zu unterstützen. Das Schlichtungsverfahren ist kostenlos; Sie brauchen keinen
Rechtsbeistand.

{SCHLICHTUNGSSTELLE}
""",
    "body_en": f"""{OPERATOR["en"]} strives to make the Cooperation Agreement Registry accessible in accordance with
the German Accessible Information Technology Ordinance (BITV 2.0) and Directive (EU) 2016/2102. This statement
applies to the registry's public pages in German, English and Polish.

## Compliance status

The public pages are **partially compliant**: they largely meet the requirements of BITV 2.0 (WCAG 2.1, level
AA); the content listed below is not yet accessible.

## Content that is not accessible

- Scanned agreements (PDF) are images without a text layer; the title, summary, parties and dates of each
  agreement are given as text on its page.
- At 320 pixels width some long German words do not wrap, so the page scrolls sideways.
- The administration interface for staff still has form fields without a distinct label.

## Preparation of this statement

This statement was prepared on 1 December 2026. It is based on a self-assessment with automated checks (axe-core in
Chromium on every page type in all three languages) and manual checks with the keyboard.

## Feedback and contact

Have you found barriers to access? Do you need content in an accessible form? Contact:

{OPERATOR["en"]}\\
{ADDRESS}E-mail: <{ACCESSIBILITY_EMAIL}>\\
Telephone: {PHONE}

We answer within six weeks.

## Enforcement procedure

If your feedback to the contact above did not lead to a satisfactory solution, you can turn to the conciliation
body under section 16 of the German Disability Equality Act (Schlichtungsstelle nach § 16 BGG). It supports the
out-of-court settlement of disputes between people with disabilities and public bodies of the Federation. The
procedure is free of charge; you need no legal counsel.

{SCHLICHTUNGSSTELLE}
""",
    "body_pl": f"""{OPERATOR["pl"]} dokłada starań, aby Rejestr Umów o Współpracy był dostępny zgodnie z niemieckim
rozporządzeniem o dostępnej technice informacyjnej (BITV 2.0) i dyrektywą (UE) 2016/2102. Niniejsza deklaracja
dotyczy publicznych stron rejestru w języku niemieckim, angielskim i polskim.

## Status pod względem zgodności

Strony publiczne są **częściowo zgodne**: w większości spełniają wymagania BITV 2.0 (WCAG 2.1, poziom AA);
treści wymienione poniżej nie są jeszcze dostępne.

## Treści niedostępne

- Zeskanowane umowy (PDF) są obrazami bez warstwy tekstowej; tytuł, streszczenie, strony i daty każdej umowy
  podane są jako tekst na jej stronie.
- Przy szerokości 320 pikseli niektóre długie niemieckie słowa nie są dzielone, więc stronę trzeba przewijać
  w poziomie.
- Panel administracyjny dla pracowników ma jeszcze pola formularzy bez jednoznacznych etykiet.

## Przygotowanie deklaracji

Deklarację sporządzono 1 grudnia 2026 r. na podstawie samooceny z testami automatycznymi (axe-core w Chromium dla
każdego typu strony we wszystkich trzech językach) i ręcznymi testami z użyciem klawiatury.

## Informacje zwrotne i dane kontaktowe

Zauważyłeś bariery w dostępie? Potrzebujesz treści w dostępnej formie? Skontaktuj się z:

{OPERATOR["pl"]}\\
{ADDRESS}E-mail: <{ACCESSIBILITY_EMAIL}>\\
Telefon: {PHONE}

Odpowiadamy w ciągu sześciu tygodni.

## Procedura egzekwowania

Jeśli zgłoszenie pod powyższy adres nie przyniosło zadowalającego rozwiązania, możesz zwrócić się do organu
rozjemczego na podstawie § 16 niemieckiej ustawy o równouprawnieniu osób z niepełnosprawnościami
(Schlichtungsstelle nach § 16 BGG). Wspiera on pozasądowe rozstrzyganie sporów między osobami
z niepełnosprawnościami a federalnymi podmiotami publicznymi. Postępowanie jest bezpłatne i nie wymaga pełnomocnika.

{SCHLICHTUNGSSTELLE}
""",
}

FIRST_TEXTS = {
    LegalPageKind.IMPRINT: IMPRINT,
    LegalPageKind.PRIVACY: PRIVACY,
    LegalPageKind.ACCESSIBILITY: ACCESSIBILITY,
}


def ensure_legal_pages(*, using: str = "default") -> list[str]:
    """Create the page of each kind that has none yet, with its first text; return the kinds created."""
    from .models import LegalPage

    existing = set(LegalPage.objects.using(using).values_list("kind", flat=True))
    created = []
    for kind, texts in FIRST_TEXTS.items():
        if kind in existing:
            continue
        page = LegalPage(kind=kind, language="de", **texts)
        page._change_reason = CHANGE_REASON
        page.save(using=using)
        created.append(kind)
    return created


def legal_pages_after_migrate(sender, app_config, using="default", apps=None, **kwargs) -> None:
    """``post_migrate``: the pages, once the database has their table (not when
    migrating back before it; a flush sends no ``apps``: the current models)."""
    if apps is not None:
        try:
            apps.get_model("agreements", "LegalPage")
        except LookupError:
            return
    ensure_legal_pages(using=using)
