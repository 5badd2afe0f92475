"""What a German public body's site must have (issue 15, part 4): the legal
pages, edited in the admin; sitemap.xml with hreflang alternates, robots.txt,
canonical links, a favicon, OpenGraph/Twitter metadata and a print
stylesheet; the list's status filter and facet counts; a trip's participants."""

import datetime
import re
import xml.etree.ElementTree as ET

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from agreements.legal import ensure_legal_pages
from agreements.models import Agreement, LegalPage

from .factories import AgreementFactory, OrganisationFactory, TopicFactory
from .helpers import ROLES, FormReader, body

pytestmark = pytest.mark.django_db

PREFIXES = {"de": "", "en": "/en", "pl": "/pl"}
LEGAL = {
    "imprint": {"de": "Impressum", "en": "Legal notice", "pl": "Nota prawna"},
    "privacy": {"de": "Datenschutzerklärung", "en": "Privacy notice", "pl": "Informacja o ochronie danych"},
    "accessibility": {
        "de": "Erklärung zur Barrierefreiheit",
        "en": "Accessibility statement",
        "pl": "Deklaracja dostępności",
    },
}
SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return body(response)


# --------------------------------------------------------------------------
# Legal pages


@pytest.mark.parametrize("language", PREFIXES)
@pytest.mark.parametrize("kind", LEGAL)
def test_each_legal_page_in_each_language(client, kind, language):
    html = page(client, f"{PREFIXES[language]}/{kind}/")
    assert f'<html lang="{language}">' in html
    assert f"<h1>{LEGAL[kind][language]}</h1>" in html
    assert html.count("<h1") == 1 and "<h2>" in html  # the text's headings come below the title
    assert "Musterstraße 1" in html  # an address, not a contact form
    assert "<form" not in html.split('<main id="main"')[1]


@pytest.mark.parametrize("language", PREFIXES)
def test_the_accessibility_statement_has_what_bitv_asks_for(client, language):
    html = page(client, f"{PREFIXES[language]}/accessibility/")
    words = {
        "de": [
            "teilweise barrierefrei",
            "Nicht barrierefreie Inhalte",
            "Feedback und Kontakt",
            "Schlichtungsverfahren",
        ],
        "en": ["partially compliant", "not accessible", "Feedback and contact", "Enforcement procedure"],
        "pl": ["częściowo zgodne", "Treści niedostępne", "Informacje zwrotne", "Procedura egzekwowania"],
    }[language]
    for word in [*words, "§ 16", "mailto:barrierefreiheit@example.org", "Mauerstraße 53"]:
        assert word in html, word
    assert '<a href="https://www.schlichtungsstelle-bgg.de">' in html


def test_the_first_texts_are_there_after_migrating_and_an_edited_page_is_kept():
    assert sorted(LegalPage.objects.values_list("kind", flat=True)) == ["accessibility", "imprint", "privacy"]
    imprint = LegalPage.objects.get(kind="imprint")
    imprint.body_en = "Our own text"
    imprint.save()
    LegalPage.objects.filter(kind="privacy").delete()

    assert ensure_legal_pages() == ["privacy"]
    assert LegalPage.objects.get(kind="imprint").body_en == "Our own text"
    assert LegalPage.objects.get(kind="privacy").history.first().history_change_reason == "first text"


PAGE_TYPES = {
    "home": "/",
    "list": "/agreements/?kind=other",
    "agreement": "/agreements/public-a/",
    "organisations": "/organisations/",
    "organisation": "/organisations/org-a/",
    "trips": "/trips/",
    "trip": "/trips/trip/",
    "signing event": "/signing-events/event/",
    "topics": "/topics/",
    "topic": "/topics/software/",
    "legal page": "/privacy/",
}


@pytest.mark.parametrize("language", PREFIXES)
def test_every_page_type_links_the_legal_pages_in_its_footer(cast, client, language):
    prefix = PREFIXES[language]
    for name, path in [*PAGE_TYPES.items(), ("not found", "/no-such-page/")]:
        response = client.get(prefix + path)
        footer = body(response).split('<footer class="site-footer">')[1]
        for kind in LEGAL:
            assert f'href="{prefix}/{kind}/"' in footer, (name, kind)


def test_the_body_is_markdown_and_never_raw_html(client):
    LegalPage.objects.filter(kind="imprint").update(
        body_en="# Who we are\n\n<script>alert(1)</script> [click](javascript:alert(2)) **bold**\n\n- one\n- two"
    )
    html = page(client, "/en/imprint/")
    assert "<h2>Who we are</h2>" in html and "<strong>bold</strong>" in html and "<li>one</li>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert 'href="javascript:' not in html


def test_a_missing_translation_falls_back_and_says_its_language(client):
    LegalPage.objects.filter(kind="imprint").update(body_pl="", title_pl="")
    html = page(client, "/pl/imprint/")
    assert '<h1><span lang="de">Impressum</span></h1>' in html
    assert '<div class="legal-text" lang="de">' in html


def change_url(kind: str) -> str:
    return f"/admin/agreements/legalpage/{LegalPage.objects.get(kind=kind).pk}/change/"


def test_a_registry_admin_edits_a_legal_page_and_the_page_follows(cast, role_clients):
    anonymous = Client()
    assert "Nasz nowy adres" not in page(anonymous, "/pl/imprint/")  # now cached
    admin = role_clients["registry_admin"]
    form = FormReader.read(body(admin.get(change_url("imprint"))))
    form["body_pl"] = ["## Adres\n\nNasz nowy adres"]

    response = admin.post(change_url("imprint"), form)

    assert response.status_code == 302
    assert "<p>Nasz nowy adres</p>" in page(anonymous, "/pl/imprint/")
    version = LegalPage.objects.get(kind="imprint").history.first()
    assert version.history_user == cast.users["registry_admin"] and version.history_type == "~"


def test_the_admin_lists_the_legal_pages_and_their_history(cast, role_clients):
    admin = role_clients["registry_admin"]
    listing = body(admin.get("/admin/agreements/legalpage/"))
    for title in ["Legal notice", "Privacy notice", "Accessibility statement"]:
        assert title in listing
    history = admin.get(change_url("imprint").replace("/change/", "/history/"))
    assert history.status_code == 200 and "first text" in body(history)


# Who may do what with a legal page in the admin: registry administrators
# change (never add or delete: each kind is always there); staff without that
# role see a 403; the others are sent to the login.
ADMIN_MATRIX = {
    "anonymous": 302,
    "partner_a": 302,
    "partner_b": 302,
    "editor_a": 403,
    "editor_b": 403,
    "staff": 403,
    "registry_admin": 200,
}


@pytest.mark.parametrize("role", ROLES)
def test_only_registry_admins_change_legal_pages(cast, role_clients, role):
    client = role_clients[role]
    url = change_url("privacy")
    form = FormReader.read(body(role_clients["superuser"].get(url)))
    form["title_en"] = ["Changed by " + role]

    assert client.get(url).status_code == ADMIN_MATRIX[role]
    client.post(url, form)

    changed = LegalPage.objects.get(kind="privacy").title_en == "Changed by " + role
    assert changed is (role == "registry_admin")
    assert client.get("/admin/agreements/legalpage/add/").status_code == (302 if ADMIN_MATRIX[role] == 302 else 403)
    deleted = client.post(url.replace("/change/", "/delete/"), {"post": "yes"})
    assert deleted.status_code in {302, 403} and LegalPage.objects.filter(kind="privacy").exists()


# --------------------------------------------------------------------------
# Sitemap and robots.txt


def sitemap_urls(client) -> dict[str, dict[str, str]]:
    """Every address in every sitemap of the index: {address: {hreflang: alternate}}."""
    index = client.get("/sitemap.xml")
    assert index.status_code == 200 and index["Content-Type"].startswith("application/xml")
    urls = {}
    for location in ET.fromstring(index.content).iterfind("s:sitemap/s:loc", SITEMAP_NS):  # noqa: S314 - our own
        assert location.text.startswith("http://testserver/sitemap-")
        section = client.get(location.text.removeprefix("http://testserver"))
        assert section.status_code == 200
        for url in ET.fromstring(section.content).iterfind("s:url", SITEMAP_NS):  # noqa: S314 - our own
            alternates = {
                link.get("hreflang"): link.get("href") for link in url.iterfind("x:link[@rel='alternate']", SITEMAP_NS)
            }
            urls[url.find("s:loc", SITEMAP_NS).text] = alternates
    return urls


def test_the_sitemap_lists_the_public_pages_in_three_languages_with_alternates(cast, client):
    urls = sitemap_urls(client)
    site = "http://testserver"
    for path in ["/", "/agreements/public-a/", "/organisations/org-a/", "/organisations/org-c/", "/trips/trip/"]:
        for prefix in PREFIXES.values():
            assert site + prefix + path in urls, prefix + path
        assert urls[site + "/en" + path] == {
            "de": site + path,
            "en": site + "/en" + path,
            "pl": site + "/pl" + path,
            "x-default": site + path,
        }
    for path in ["/topics/software/", "/signing-events/event/", "/imprint/", "/privacy/", "/accessibility/"]:
        assert site + "/pl" + path in urls


def test_the_sitemap_names_no_hidden_record(cast, client):
    urls = " ".join(sitemap_urls(client))
    for hidden in ["hidden-a", "hidden-b", "org-b", "org-far", "/admin/", "/api/", "documents"]:
        assert hidden not in urls, hidden
    everything = body(client.get("/sitemap-agreements.xml")) + body(client.get("/sitemap-organisations.xml"))
    for secret in [*cast.secrets, *cast.secrets_of_b]:
        assert secret not in everything


def test_a_sitemap_page_that_does_not_exist_is_a_404(client):
    assert client.get("/sitemap-agreements.xml?p=9").status_code == 404
    assert client.get("/sitemap-agreements.xml?p=x").status_code == 404
    assert client.get("/sitemap-nothing.xml").status_code == 404


def test_a_sitemap_runs_a_constant_number_of_queries(client, django_assert_num_queries):
    AgreementFactory(signed=True)
    client.get("/sitemap-agreements.xml")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    AgreementFactory(signed=True)  # a new data version: nothing from the cache
    with CaptureQueriesContext(connection) as few:
        client.get("/sitemap-agreements.xml")
    for _ in range(20):
        AgreementFactory(signed=True)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get("/sitemap-agreements.xml")
    assert body(response).count("<url>") == 22 * 3


def test_robots_txt_names_the_sitemap_and_keeps_crawlers_out_of_the_admin(client, settings):
    settings.ALLOWED_HOSTS = ["registry.example.org"]
    response = client.get("/robots.txt", HTTP_HOST="registry.example.org", secure=True)
    text = body(response)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    assert "Sitemap: https://registry.example.org/sitemap.xml" in text.splitlines()
    assert "Disallow: /admin/" in text.splitlines() and "Disallow: /api/" in text.splitlines()


# --------------------------------------------------------------------------
# Page heads: canonical, alternates, favicon, social metadata, print


def test_pages_name_their_canonical_address_and_alternates(cast, client):
    html = page(client, "/en/agreements/public-a/?utm_source=mail&page=")
    assert '<link rel="canonical" href="http://testserver/en/agreements/public-a/">' in html
    assert '<link rel="alternate" hreflang="pl" href="http://testserver/pl/agreements/public-a/">' in html
    assert '<link rel="alternate" hreflang="x-default" href="http://testserver/agreements/public-a/">' in html
    listing = page(client, "/pl/?kind=other&bench=1-2&page=1")
    assert '<link rel="canonical" href="http://testserver/pl/?kind=other&amp;page=1">' in listing


@pytest.mark.parametrize("name", PAGE_TYPES)
def test_every_page_type_has_a_canonical_link_and_the_favicon(cast, client, name):
    html = page(client, "/en" + PAGE_TYPES[name])
    assert len(re.findall(r'<link rel="canonical" href="http://testserver/en/', html)) == 1
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    assert finders.find("favicon.svg") and finders.find("favicon.ico")


@pytest.mark.parametrize(
    ("path", "title", "description"),
    [
        ("/en/agreements/public-a/", "Open cooperation of Alpha", "Supply chains and software"),
        ("/en/organisations/org-a/", "Alpha Cluster", None),
        ("/en/trips/trip/", None, None),
    ],
)
def test_agreement_organisation_and_trip_pages_have_social_metadata(cast, client, path, title, description):
    html = page(client, path)
    title = title or cast.trip.title_en
    assert f'<meta property="og:title" content="{title}">' in html
    assert f'<meta name="twitter:title" content="{title}">' in html
    assert f'<meta property="og:url" content="http://testserver{path}">' in html
    assert '<meta name="twitter:card" content="summary">' in html
    assert '<meta property="og:locale" content="en_GB">' in html
    assert '<meta property="og:locale:alternate" content="de_DE">' in html
    if description:
        assert f'<meta property="og:description" content="{description}">' in html


def test_an_agreement_page_prints_without_the_site_chrome_and_with_link_addresses(cast, client):
    html = page(client, "/en/agreements/public-a/")
    assert '<link rel="stylesheet" href="/static/css/print.css" media="print">' in html
    with open(finders.find("css/print.css")) as f:
        css = f.read()
    hidden = css.split("{ display: none !important; }")[0]
    for chrome in [".site-header", ".main-nav", ".site-footer", ".skip-link", ".breadcrumb"]:
        assert chrome in hidden
    assert 'a[href]:after { content: " (" attr(href) ")"' in css


# --------------------------------------------------------------------------
# The list: status filter and facet counts


@pytest.fixture
def statuses(db):
    """Three public agreements: one in force, one expired, one terminated."""
    alpha = OrganisationFactory(slug="alpha", name="Alpha", short_name="", country="DE")
    beta = OrganisationFactory(slug="beta", name="Beta", short_name="", country="PL")
    gamma = OrganisationFactory(slug="gamma", name="Gamma", short_name="", country="CZ")
    topic = TopicFactory(slug="energy", name_en="Energy")
    in_force = AgreementFactory(
        signed=True, slug="in-force", parties=[alpha, beta], topics=[topic], valid_until=datetime.date(2999, 1, 1)
    )
    expired = AgreementFactory(
        signed=True,
        slug="expired",
        parties=[alpha, gamma],
        kind="letter_of_intent",
        signed_on=datetime.date(2019, 5, 1),
        valid_until=datetime.date(2020, 1, 1),
    )
    terminated = AgreementFactory(
        signed=True,
        slug="terminated",
        parties=[beta, gamma],
        topics=[topic],
        status="terminated",
        terminated_on=datetime.date(2022, 1, 1),
        termination_reason="Ended",
    )
    AgreementFactory(slug="draft", parties=[alpha, beta], topics=[topic])  # not public: never counted
    return in_force, expired, terminated


def result_slugs(html: str) -> set[str]:
    return (
        set(re.findall(r'href="/en/agreements/([\w-]+)/"', html.split('class="results"')[1]))
        if 'class="results"' in html
        else set()
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [("in_force", {"in-force"}), ("terminated", {"terminated"}), ("expired", {"expired"}), ("", None)],
)
def test_the_list_filters_by_status(client, statuses, status, expected):
    html = page(client, f"/en/?status={status}")
    assert result_slugs(html) == (expected or {"in-force", "expired", "terminated"})


def options_of(html: str, name: str) -> dict[str, str]:
    select = re.search(rf'<select id="id_{name}" name="{name}">(.*?)</select>', html, re.S).group(1)
    return dict(re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', select))


def test_each_facet_value_has_its_count(client, statuses):
    html = page(client, "/en/")
    assert options_of(html, "status") == {
        "in_force": "In force (1)",
        "terminated": "Terminated (1)",
        "expired": "Expired (1)",
    }
    assert options_of(html, "party") == {"alpha": "Alpha (2)", "beta": "Beta (2)", "gamma": "Gamma (2)"}
    assert options_of(html, "country") == {"CZ": "Czechia (2)", "DE": "Germany (2)", "PL": "Poland (2)"}
    assert options_of(html, "topic") == {"energy": "Energy (2)"}
    assert options_of(html, "kind")["letter_of_intent"] == "Letter of intent (1)"
    assert options_of(html, "kind")["cooperation_agreement"] == "Cooperation agreement (2)"
    assert options_of(html, "year") == {"2021": "2021 (2)", "2019": "2019 (1)"}


def test_facet_counts_follow_the_other_filters_and_not_their_own(client, statuses):
    html = page(client, "/en/?party=gamma&status=expired")
    assert result_slugs(html) == {"expired"}
    # The status facet: Gamma's agreements by status (its own filter left out).
    assert options_of(html, "status") == {
        "in_force": "In force (0)",
        "terminated": "Terminated (1)",
        "expired": "Expired (1)",
    }
    # The party facet: expired agreements by party (its own filter left out).
    assert options_of(html, "party") == {"alpha": "Alpha (1)", "beta": "Beta (0)", "gamma": "Gamma (1)"}
    assert options_of(html, "kind")["letter_of_intent"] == "Letter of intent (1)"
    assert options_of(html, "kind")["cooperation_agreement"] == "Cooperation agreement (0)"


def test_a_bad_filter_shows_no_counts(client, statuses):
    response = client.get("/en/?status=sleeping")
    assert response.status_code == 400
    assert options_of(body(response), "status")["in_force"] == "In force"


def test_facet_counts_take_a_constant_number_of_queries(client, statuses, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = "/en/?topic=energy&kind=cooperation_agreement"
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    topic = statuses[0].topics.get()
    for index in range(15):
        AgreementFactory(
            signed=True,
            parties=[OrganisationFactory(country=["DE", "PL", "CZ", "AT", "SK"][index % 5]), OrganisationFactory()],
            topics=[topic, TopicFactory()],
            signed_on=datetime.date(2000 + index, 1, 1),
        )
    with django_assert_num_queries(len(few.captured_queries)):
        html = page(client, url)
    assert options_of(html, "status")["in_force"] == "In force (16)"
    # Another page of the same list (a new address for the page cache): the counts come from their cache.
    with CaptureQueriesContext(connection) as again:
        page(client, url + "&page=1")
    assert len(again.captured_queries) < len(few.captured_queries)
    assert not [q for q in again.captured_queries if "GROUP BY" in q["sql"] and "agreementparty" in q["sql"]]


def test_the_api_filters_by_the_derived_statuses_too(client, statuses):
    slugs = {row["slug"] for row in client.get("/api/v1/agreements/?status=in_force").json()["results"]}
    assert slugs == {"in-force"}
    assert Agreement.objects.filter(slug="expired").get().is_expired


# --------------------------------------------------------------------------
# A trip's participants


def test_a_trip_page_lists_its_participating_organisations(cast, client):
    cast.trip.participant_organisations.set([cast.org_a, cast.org_b])
    html = page(client, "/en/trips/trip/")
    section = html.split("Participating organisations</h2>")[1].split("</ul>")[0]
    assert 'href="/en/organisations/org-a/">Alpha Cluster</a> (ALPHA)' in section
    assert "Beta Association" in section and "Gamma Institute" not in section
