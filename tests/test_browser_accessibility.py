"""Accessible everywhere, not only at desktop width (issue 15 part 5), in Debian's
Chromium like tests/test_browser.py (its fixtures: one browser and one page per
test): every public page type reflows at 320 px in every language (WCAG 1.4.10),
every admin page type and the API docs pass axe-core's WCAG 2.1 AA rules."""

import pytest

from .test_browser import CHROMIUM, PAGE_TYPES, PREFIXES, WCAG_AA, page, site  # noqa: F401 (fixtures)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"
)

# What sticks out at the right: elements wider than the viewport, but for the
# insides of a scroll container (a wide data table may scroll in its region).
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const element of document.body.querySelectorAll('*')) {
    if (element.closest('.table-scroll, svg') && !element.matches('.table-scroll')) continue;
    const box = element.getBoundingClientRect();
    if (box.right > width + 1) {
      wide.push(`${element.tagName.toLowerCase()}.${element.className} ${Math.round(box.right)}px`);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, wide: wide.slice(0, 5)};
}"""

SCROLL_REGIONS = """() => Array.from(document.querySelectorAll('.table-scroll')).map((region) => ({
  role: region.getAttribute('role'),
  name: region.getAttribute('aria-label')
        || (document.getElementById(region.getAttribute('aria-labelledby') || '') || {}).textContent || '',
  tabindex: region.getAttribute('tabindex'),
  scrolls: region.scrollWidth > region.clientWidth,
}))"""


def test_every_page_type_reflows_at_320_px_in_every_language(site, page):  # noqa: F811
    """No sideways scrolling at 320 CSS px (1280 px zoomed to 400 %): long German
    compounds break, wide tables scroll inside a focusable, labelled region."""
    page.set_viewport_size({"width": 320, "height": 640})
    overflowing, unreachable, scrolling = {}, {}, set()
    for language, prefix in PREFIXES.items():
        for name, path in PAGE_TYPES.items():
            page.goto(site + prefix + path)
            measured = page.evaluate(OVERFLOW)
            if measured["scrollWidth"] > measured["width"] or measured["wide"]:
                overflowing[f"{language} {name}"] = measured
            for region in page.evaluate(SCROLL_REGIONS):
                if region["scrolls"]:
                    scrolling.add(name)
                    if region["role"] != "region" or not region["name"].strip() or region["tabindex"] != "0":
                        unreachable[f"{language} {name}"] = region
    assert overflowing == {}
    assert unreachable == {}
    # The wide tables really are the ones that scroll (the check above is not vacuous).
    assert {"organisations", "trips"} <= scrolling


# Select2 has drawn its comboboxes and the admin's script has named them.
SELECT2_NAMED = """() => Array.from(document.querySelectorAll('.select2-selection')).every(
  (combobox) => combobox.hasAttribute('aria-label') || (combobox.getAttribute('aria-labelledby') || '').includes(' '))
  && !document.querySelector('select.admin-autocomplete:not([name*=__prefix__]):not(.select2-hidden-accessible)')"""


def axe_violations(browser_page):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(browser_page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
    assert results.response["passes"]  # axe really ran its rules
    return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]]


def test_every_admin_page_type_passes_axe(site, page):  # noqa: F811
    """Login, index, changelists, change and add forms (with their inlines and
    Select2 comboboxes), history, import and export, logged in as a registry
    administrator."""
    from django.contrib.auth import get_user_model

    from agreements.models import Agreement, DelegationTrip, Organisation, Person, SigningEvent, Topic

    get_user_model().objects.create_superuser("registrar", "registrar@example.org", "a long test password 123")
    ids = {
        "agreement": Agreement.objects.get(slug="amz-sa-am-cooperation-2021").pk,
        "organisation": Organisation.objects.get(slug="amz").pk,
        "person": Person.objects.get().pk,
        "topic": Topic.objects.get(slug="software-development").pk,
        "trip": DelegationTrip.objects.get().pk,
        "event": SigningEvent.objects.get().pk,
    }
    failures = {}
    page.goto(site + "/admin/login/")
    if violations := axe_violations(page):
        failures["login"] = violations
    page.fill("#id_username", "registrar")
    page.fill("#id_password", "a long test password 123")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    admin = "/admin/agreements/"
    pages = [
        "/admin/",
        *(admin + model + "/" for model in ("agreement", "organisation", "agreementdocument", "person", "topic")),
        *(admin + model + "/" for model in ("delegationtrip", "signingevent", "apitoken")),
        *(admin + model + "/add/" for model in ("agreement", "organisation", "agreementdocument", "person", "topic")),
        *(admin + model + "/add/" for model in ("delegationtrip", "signingevent", "apitoken")),
        admin + "agreement/{agreement}/change/",
        admin + "organisation/{organisation}/change/",
        admin + "person/{person}/change/",
        admin + "topic/{topic}/change/",
        admin + "delegationtrip/{trip}/change/",
        admin + "signingevent/{event}/change/",
        admin + "agreement/{agreement}/history/",
        admin + "agreement/import/",
        admin + "agreement/export/",
    ]
    for path in pages:
        response = page.goto(site + path.format(**ids))
        assert response.status == 200, path
        page.wait_for_function(SELECT2_NAMED, timeout=5000)
        if violations := axe_violations(page):
            failures[path] = violations
    assert failures == {}
    # The inline rows' fields are named (their labels are only column headers),
    # and no column header is empty (axe's best-practice rule, not in the tags above).
    page.goto(site + admin + "agreement/{agreement}/change/".format(**ids))
    page.wait_for_function(SELECT2_NAMED, timeout=5000)
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "rule", "values": ["empty-table-header"]}})
    assert results.response["violations"] == [] and results.response["passes"]
    assert page.get_attribute("#id_parties-0-role", "aria-label")
    assert page.get_attribute("#id_parties-0-DELETE", "aria-label")
    # A Select2 combobox is named by its field's label and its value.
    labelled_by = page.get_attribute("#id_predecessor ~ .select2 .select2-selection", "aria-labelledby")
    assert page.locator(f"#{labelled_by.split()[0]}").inner_text().startswith("Follows")


def test_the_import_page_has_the_admins_breadcrumb_bar(site, page):  # noqa: F811
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("registrar", "registrar@example.org", "a long test password 123")
    page.goto(site + "/admin/login/?next=/admin/agreements/agreement/import/")
    page.fill("#id_username", "registrar")
    page.fill("#id_password", "a long test password 123")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/agreements/agreement/import/")
    crumbs = page.locator("nav ol.breadcrumbs li")
    assert crumbs.count() == 4
    assert crumbs.last.get_attribute("aria-current") == "page"
    # Django's bar: its background, not the page's.
    assert page.evaluate("getComputedStyle(document.querySelector('ol.breadcrumbs')).backgroundColor") != (
        page.evaluate("getComputedStyle(document.body).backgroundColor")
    )


def test_the_login_title_stays_inside_its_box_at_any_width(site, page):  # noqa: F811
    page.set_extra_http_headers({"Accept-Language": "de"})
    for width in (1280, 320):
        page.set_viewport_size({"width": width, "height": 640})
        page.goto(site + "/admin/login/")
        title, box = (page.locator(selector).bounding_box() for selector in ("#site-name a", ".login #container"))
        assert title["x"] >= box["x"] + 8, width
        assert title["x"] + title["width"] <= box["x"] + box["width"] - 8, width
        assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_the_api_docs_pass_axe_and_lead_back_to_the_registry(site, page):  # noqa: F811
    page.goto(site + "/api/v1/docs/")
    page.wait_for_load_state("networkidle")
    assert page.locator(".swagger-ui .opblock").count() > 10  # Swagger UI has drawn the operations
    assert axe_violations(page) == []
    page.click(".registry-bar a")
    assert page.url == site + "/en/"
    assert page.locator("html").get_attribute("lang") == "en"
