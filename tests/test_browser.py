"""A real browser (Debian's Chromium driven by Playwright) on the public site:
a visitor's journey, and axe-core's WCAG 2.1 AA rules on every page type in
every language. Screenshots go to test-artifacts/ (not committed)."""

import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"
)

PAGE_TYPES = {
    "home": "/",
    "agreement": "/agreements/amz-sa-am-cooperation-2021/",
    "organisations": "/organisations/",
    "organisation": "/organisations/amz/",
    "trips": "/trips/",
    "trip": "/trips/saxon-delegation-poland-2021/",
    "signing_event": "/signing-events/katowice-2021-10-07/",
    "topics": "/topics/",
    "topic": "/topics/software-development/",
    "no_results": "/?kind=other",
    "bad_filter": "/?year=abc",
    "imprint": "/imprint/",
    "privacy": "/privacy/",
    "accessibility": "/accessibility/",
    "statistics": "/statistics/",
    "statistics_filtered": "/statistics/?country=PL",
    "map": "/map/",
}
PREFIXES = {"de": "", "en": "/en", "pl": "/pl"}


@pytest.fixture
def site(live_server, transactional_db, monkeypatch):
    call_command("load_founding_data", verbosity=0)
    # Playwright's sync API runs an event loop in this thread; the ORM work is done by then.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    return live_server.url


@pytest.fixture
def page(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        outside = []
        page.on(
            "request",
            lambda request: (
                None if request.url.startswith(site) or request.url.startswith("data:") else outside.append(request.url)
            ),
        )
        yield page
        context.close()
        browser.close()
        assert outside == [], f"requests to other hosts: {outside}"


def test_a_visitor_filters_opens_an_agreement_and_switches_language(site, page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(site + "/")
    assert page.locator("html").get_attribute("lang") == "de"
    page.screenshot(path=str(ARTIFACTS / "home.png"), full_page=True)
    page.select_option("#id_party", "silicon-saxony")
    page.click("button[type=submit]")
    assert "party=silicon-saxony" in page.url
    rows = page.locator("table.results tbody tr")
    assert rows.count() == 1
    page.click("table.results tbody tr th a")
    # Soft hyphens (U+00AD) mark where the long compound may break at narrow widths.
    assert page.locator("h1").inner_text() == "Kooperations\u00advereinbarung zwischen Silicon Saxony und SoDA"
    page.click("nav.languages a[lang=en]")
    assert page.url.endswith("/en/agreements/silicon-saxony-soda-cooperation-2021/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Cooperation agreement between Silicon Saxony and SoDA"
    page.screenshot(path=str(ARTIFACTS / "agreement.png"), full_page=True)


def test_keyboard_only_skip_link_reaches_main(site, page):
    page.goto(site + "/en/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize("language", PREFIXES)
def test_every_page_type_passes_axe(site, page, language):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    failures = {}
    for name, path in PAGE_TYPES.items():
        page.goto(site + PREFIXES[language] + path)
        results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
        violations = results.response["violations"]
        if violations:
            failures[name] = [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
        assert results.response["passes"], name  # axe really ran its rules
    assert failures == {}


def test_an_agreement_page_prints_without_the_site_chrome(site, page):
    page.goto(site + "/en/agreements/amz-sa-am-cooperation-2021/")
    page.emulate_media(media="print")
    for chrome in (".site-header", ".site-footer", ".skip-link", ".breadcrumb"):
        assert not page.locator(chrome).is_visible(), chrome
    assert page.locator("h1").is_visible()
    # Links are written out after their text.
    after = page.evaluate("getComputedStyle(document.querySelector('main table a[href]'), '::after').content")
    assert "/en/organisations/" in after


STAFF_PAGES = [
    "/admin/",
    "/admin/agreements/agreement/",
    "/admin/agreements/agreement/{agreement}/change/",
    "/admin/agreements/agreement/{agreement}/history/",
    "/admin/agreements/agreement/add/",
    "/admin/agreements/agreement/import/",
    "/admin/agreements/agreement/export/",
    "/admin/agreements/organisation/",
    "/admin/agreements/person/",
    "/admin/agreements/delegationtrip/{trip}/change/",
    "/api/v1/docs/",
]


def test_no_page_needs_inline_script_or_style_under_the_content_security_policy(site, page):
    """Django's CSP forbids inline script and style: every page must work under
    it (public pages, the admin with its forms, the API docs)."""
    from django.contrib.auth import get_user_model

    from agreements.models import Agreement, DelegationTrip

    get_user_model().objects.create_superuser("csp-admin", "csp@example.org", "a long test password 123")
    ids = {
        "agreement": Agreement.objects.get(slug="amz-sa-am-cooperation-2021").pk,
        "trip": DelegationTrip.objects.get().pk,
    }
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append((page.url, message.text)) if "Content Security Policy" in message.text else None
        ),
    )
    for path in PAGE_TYPES.values():
        page.goto(site + path)
    page.goto(site + "/admin/login/")
    page.fill("#id_username", "csp-admin")
    page.fill("#id_password", "a long test password 123")
    page.click("input[type=submit]")
    assert page.url.endswith("/admin/")
    for path in STAFF_PAGES:
        response = page.goto(site + path.format(**ids))
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
    # The interactive docs really rendered (their script is a file, not inline).
    assert page.locator(".swagger-ui .info .title").count() == 1
    assert violations == [], "\n".join(f"{url}: {text}" for url, text in violations)
