"""Each page, answer and e-mail in one language: the reader's, with counts in
that language's plural forms, and text that falls back to another language
marked as such (WCAG 3.1.2)."""

import re

import pytest
from django.test import Client
from django.utils import translation

from .factories import (
    AgreementFactory,
    DelegationTripFactory,
    OrganisationFactory,
    PersonFactory,
    ProgrammeItemFactory,
    SignatoryFactory,
    SigningEventFactory,
    TopicFactory,
)
from .helpers import body

pytestmark = pytest.mark.django_db


def page(path: str) -> str:
    response = Client().get(path)
    assert response.status_code == 200, path
    return body(response)


def result_count(html: str) -> str:
    return " ".join(re.search(r'<p class="result-count"[^>]*>(.*?)</p>', html, re.S).group(1).split())


@pytest.mark.parametrize(
    ("prefix", "one", "five"),
    [("", "1 Vereinbarung", "5 Vereinbarungen"), ("/pl", "1 umowa", "5 umów"), ("/en", "1 agreement", "5 agreements")],
)
def test_counts_are_in_the_language_of_the_page(prefix, one, five):
    topic, other_topic = TopicFactory(slug="one"), TopicFactory(slug="five")
    organisation = OrganisationFactory(slug="org")
    AgreementFactory(signed=True, topics=[topic], parties=[organisation, OrganisationFactory()])
    for _ in range(5):
        AgreementFactory(signed=True, topics=[other_topic])

    assert result_count(page(f"{prefix}/organisations/org/")) == one
    assert result_count(page(f"{prefix}/topics/one/")) == one
    assert result_count(page(f"{prefix}/topics/five/")) == five
    topics = page(f"{prefix}/topics/")
    assert f"({one})" in topics and f"({five})" in topics


@pytest.fixture
def german_only():
    """Records written in German, with no Polish (and some no English) texts."""
    topic = TopicFactory(slug="chains", name_de="Lieferketten", name_en="Supply chains")
    trip = DelegationTripFactory(slug="trip", title_de="Reise nach Polen", title_en="", purpose_de="Zweck der Reise")
    event = SigningEventFactory(slug="event", trip=trip, title_de="Unterzeichnung in Kattowitz", title_en="")
    ProgrammeItemFactory(trip=trip, title_de="Werkstatt", title_en="", description_de="Mit Gästen")
    organisation = OrganisationFactory(slug="amz", description_de="Netzwerk in Sachsen", description_en="")
    agreement = AgreementFactory(
        slug="deal",
        signed=True,
        signing_event=event,
        topics=[topic],
        parties=[organisation, OrganisationFactory()],
        title_de="Kooperation mit Schlesien",
        title_en="",
        summary_de="Eine Zusammenfassung",
        summary_en="",
        objectives_de="Erstes Ziel\nZweites Ziel",
    )
    SignatoryFactory(agreement=agreement, person=PersonFactory(position_de="Ministerin", position_en=""))
    return agreement


def test_a_fallback_text_is_marked_with_its_language(german_only):
    detail = page("/pl/agreements/deal/")
    assert '<h1><span lang="de">Kooperation mit Schlesien</span></h1>' in detail
    assert '<p class="lead"><span lang="de">Eine Zusammenfassung</span></p>' in detail
    assert '<span lang="de">Erstes Ziel<br>Zweites Ziel</span>' in detail
    assert '<span lang="de">Lieferketten</span>' in detail
    assert '<span lang="de">Unterzeichnung in Kattowitz</span>' in detail
    assert '<span lang="de">Reise nach Polen</span>' in detail
    assert '<span lang="de">Ministerin</span>' in detail

    assert '<span lang="de">Kooperation mit Schlesien</span>' in page("/pl/agreements/")
    assert '<option value="chains" lang="de">Lieferketten (1)</option>' in page("/pl/agreements/")
    assert '<span lang="de">Netzwerk in Sachsen</span>' in page("/pl/organisations/amz/")
    assert '<h1><span lang="de">Lieferketten</span></h1>' in page("/pl/topics/chains/")
    assert '<span lang="de">Lieferketten</span>' in page("/pl/topics/")
    trip = page("/pl/trips/trip/")
    assert '<h1><span lang="de">Reise nach Polen</span></h1>' in trip
    assert '<h3><span lang="de">Werkstatt</span></h3>' in trip
    assert '<p><span lang="de">Mit Gästen</span></p>' in trip
    assert '<span lang="de">Reise nach Polen</span>' in page("/pl/trips/")
    assert '<h1><span lang="de">Unterzeichnung in Kattowitz</span></h1>' in page("/pl/signing-events/event/")


def test_a_text_in_the_language_of_the_page_is_not_marked(german_only):
    detail = page("/agreements/deal/")
    assert "<h1>Kooperation mit Schlesien</h1>" in detail
    assert 'lang="de"' not in detail.split("<main", 1)[1]
    # English page: the topic has an English name, the agreement falls back to German.
    english = page("/en/agreements/deal/")
    assert ">Supply chains</a>" in english
    assert '<h1><span lang="de">Kooperation mit Schlesien</span></h1>' in english


def test_the_fallback_says_which_language_it_took():
    agreement = AgreementFactory.build(title_de="Titel", title_en="", title_pl="Tytuł", language="de")
    with translation.override("en"):
        assert (agreement.title, agreement.title.language) == ("Titel", "de")  # the original language first
    with translation.override("pl"):
        assert (agreement.title, agreement.title.language) == ("Tytuł", "pl")
    agreement.title_de = ""
    with translation.override("en"):
        assert (agreement.title, agreement.title.language) == ("Tytuł", "pl")  # then any


def test_a_cached_text_keeps_its_language():
    import pickle

    with translation.override("pl"):
        title = AgreementFactory.build(title_de="Titel", title_en="", title_pl="").title
    assert pickle.loads(pickle.dumps(title)).language == "de"  # noqa: S301 - our own data


# --------------------------------------------------------------------------
# The admin, in the staff member's language.


@pytest.fixture
def root(db):
    from .factories import UserFactory

    return UserFactory(username="root", is_staff=True, is_superuser=True)


def admin_page(user, path: str, language: str) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200, path
    return body(response)


def test_the_german_admin_shows_no_english(root):
    agreement = AgreementFactory(
        signed=True, title_de="Kooperation mit Schlesien", title_en="Cooperation with Silesia", language="de"
    )
    trip = DelegationTripFactory()
    trip.stops.create(city="Katowice")

    index = admin_page(root, "/admin/", "de")
    assert "Otp_Totp" not in index and "TOTP devices" not in index
    assert "Zwei-Faktor-Authentifizierung" in index and "Authenticator-Apps" in index
    latest = index.split("registry-overview", 1)[1].split("</div>", 1)[0]
    assert "Kooperation mit Schlesien" in latest and "Cooperation with Silesia" not in latest

    changelist = admin_page(root, "/admin/agreements/agreement/", "de")
    for english in (">Run<", "- Select an option -", "Filter by"):
        assert english not in changelist
    assert ">Ausführen<" in changelist and "– Bitte auswählen –" in changelist
    assert '<span id="date-hierarchy-label">Nach Unterzeichnungsdatum filtern</span>' in changelist

    change = admin_page(root, f"/admin/agreements/agreement/{agreement.pk}/change/", "de")
    assert "Loaded version" not in change and "Geladene Fassung" in change
    parties = change.split('id="parties-group"', 1)[1].split("</table>", 1)[0]
    assert "Reihenfolge" in parties and "Funktion" not in parties
    stops = admin_page(root, f"/admin/agreements/delegationtrip/{trip.pk}/change/", "de")
    assert "Reihenfolge" in stops.split('id="stops-group"', 1)[1].split("</table>", 1)[0]

    user_form = admin_page(root, "/admin/auth/user/add/", "de")
    assert "Password-based authentication" not in user_form and "Passwortbasierte Anmeldung" in user_form


def test_the_authenticator_admin_is_translated(root):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=root, name="phone", confirmed=False)  # no second factor to pass
    changelist = admin_page(root, "/admin/otp_totp/totpdevice/", "de")
    for english in ("Created at", "Last used at", "Search by user's", "TOTP device"):
        assert english not in changelist
    assert "Zuletzt verwendet" in changelist and "Bestätigt" in changelist
    change = admin_page(root, f"/admin/otp_totp/totpdevice/{device.pk}/change/", "de")
    for english in ("The user that this device belongs to.", "The time step in seconds.", "Throttling", "Identity"):
        assert english not in change
    assert "Der Zeitschritt in Sekunden." in change and "Falsche Codes" in change
    config = admin_page(root, f"/admin/otp_totp/totpdevice/{device.pk}/config/", "de")
    assert 'alt="QR-Code des Schlüssels"' in config and "Install" not in config


def test_the_polish_admin_falls_back_to_neither_german_nor_english(root):
    AgreementFactory(signed=True)
    changelist = admin_page(root, "/admin/agreements/agreement/", "pl")
    assert "– Wybierz –" in changelist
    for other in ("Bitte auswählen", "- Select an option -", "Filter by", "filtern"):
        assert other not in changelist
    assert "Filtruj według" in changelist


# --------------------------------------------------------------------------
# API errors: one answer, one language (the negotiated one), whoever wrote
# the message (DRF, django-filter, Django, the registry).


def error_messages(answer) -> list[str]:
    if isinstance(answer, str):
        return [answer]
    if isinstance(answer, dict):
        return [m for value in answer.values() for m in error_messages(value)]
    if isinstance(answer, list):
        return [m for value in answer for m in error_messages(value)]
    return []


def sentences(message: str) -> set[str]:
    return {s for s in re.split(r"(?<=[.!?])\s+", message) if re.search(r"[^\W\d_]{3}", s)}


@pytest.fixture
def api_errors(settings):
    from django.core.cache import cache
    from rest_framework.test import APIClient

    from .helpers import WRITE_PERMS, staff_user

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anonymous": "1/minute", "partner": "100/minute", "staff": "100/minute"},
    }
    AgreementFactory(signed=True)
    writer = staff_user("writer", perms=WRITE_PERMS)

    def answers(language: str) -> dict[str, list[str]]:
        anonymous = APIClient(HTTP_ACCEPT_LANGUAGE=language)
        staff = APIClient(HTTP_ACCEPT_LANGUAGE=language)
        staff.force_authenticate(writer)
        cache.clear()
        responses = {
            "filters": anonymous.get("/api/v1/agreements/?year=x&status=bogus&signed_after=y&page=0"),
            "throttled": anonymous.get("/api/v1/agreements/"),
            "not found": staff.get("/api/v1/agreements/no-such-agreement/"),
            "bad token": APIClient(HTTP_ACCEPT_LANGUAGE=language, HTTP_AUTHORIZATION="Token x").get("/api/v1/topics/"),
            "not json": staff.post("/api/v1/agreements/", "{'slug': 1}", content_type="application/json"),
            "types": staff.post("/api/v1/agreements/", {"slug": "x", "title_de": 0, "is_public": 0}, format="json"),
            "values": staff.post(
                "/api/v1/agreements/", {"slug": "", "kind": "nonsense", "signed_on": "2021-13-01"}, format="json"
            ),
        }
        assert {name: r.status_code for name, r in responses.items()} == {
            "filters": 400,
            "throttled": 429,
            "not found": 404,
            "bad token": 401,
            "not json": 400,
            "types": 400,
            "values": 400,
        }
        return {name: error_messages(r.json()) for name, r in responses.items()}

    return answers


def test_an_api_error_answer_is_in_one_language(api_errors):
    answers = {language: api_errors(language) for language in ("en", "de", "pl")}
    for language, others in (("en", ("de", "pl")), ("de", ("en", "pl")), ("pl", ("en", "de"))):
        for name, messages in answers[language].items():
            foreign = {s for other in others for m in answers[other][name] for s in sentences(m)}
            mixed = [m for m in messages if sentences(m) & foreign]
            assert not mixed, (language, name, mixed)
    [throttled] = answers["pl"]["throttled"]
    assert re.fullmatch(r"Żądanie zostało zdławione\. Ponowna próba możliwa za \d+ s\.", throttled)
    assert answers["de"]["not json"] == ["Der Inhalt der Anfrage ist kein gültiges JSON (Zeile 1, Spalte 2)."]
    assert answers["en"]["not json"] == ["The request body is not valid JSON (line 1, column 2)."]


def test_a_refused_body_is_answered_in_the_callers_language(db):
    from rest_framework.test import APIClient

    too_large = {"content_type": "application/json", "CONTENT_LENGTH": "99999999"}
    APIClient(HTTP_ACCEPT_LANGUAGE="pl").get("/api/v1/topics/")  # the thread's last language: Polish
    english = APIClient(HTTP_ACCEPT_LANGUAGE="en").generic("POST", "/api/v1/agreements/", "{}", **too_large)
    assert (english.status_code, english.json()) == (413, {"detail": "The request is too large."})
    german = Client(HTTP_ACCEPT_LANGUAGE="en").generic("POST", "/agreements/", "x", **too_large)  # unprefixed: German
    assert (german.status_code, german.content.decode()) == (413, "Die Anfrage ist zu groß.")
