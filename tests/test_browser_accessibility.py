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
# insides of a scroll container (a wide data table may scroll in its region)
# and text hidden for all but screen readers.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const element of document.body.querySelectorAll('*')) {
    const scroller = '.table-scroll, [role=region]';
    if (element.closest(`${scroller}, svg`) && !element.matches(scroller)) continue;
    if (element.closest('.visually-hidden')) continue;  // clipped to 1 px, read by screen readers only
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


# Where the words of the site name and the headings break across lines: each
# break inside a word, as the word with "|" at the break, split into the breaks
# after a soft or hard hyphen and the others (at the edge of the screen).
WORD_BREAKS = """() => {
  const atHyphen = [], elsewhere = [];
  for (const element of document.querySelectorAll('.brand, h1, h2, h3')) {
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      for (const match of node.data.matchAll(/\\S+/g)) {
        let lastTop = null;
        for (let i = 0; i < match[0].length; i++) {
          if (match[0][i] === '\\u00ad') continue;  // drawn only where the line breaks
          const range = document.createRange();
          range.setStart(node, match.index + i);
          range.setEnd(node, match.index + i + 1);
          const rects = Array.from(range.getClientRects()).filter((rect) => rect.width > 0);
          if (!rects.length) continue;
          const top = rects[rects.length - 1].top;  // the letter's own box (not the end of the line before)
          if (lastTop !== null && top > lastTop + 1) {
            const [before, after] = [match[0].slice(0, i), match[0].slice(i)];
            const shown = (text) => text.replaceAll('\\u00ad', '');
            const word = `${shown(before)}${before.endsWith('\\u00ad') ? '-' : ''}|${shown(after)}`;
            (/[\\u00ad-]$/.test(before) ? atHyphen : elsewhere).push(word);
          }
          lastTop = top;
        }
      }
    }
  }
  return {atHyphen, elsewhere};
}"""


def test_every_page_type_reflows_at_320_px_in_every_language(site, page):  # noqa: F811
    """No sideways scrolling at 320 CSS px (1280 px zoomed to 400 %): long German
    compounds break at their soft hyphens (the site name and headings) or
    else anywhere, wide tables scroll inside a focusable, labelled region."""
    page.set_viewport_size({"width": 320, "height": 640})
    overflowing, unreachable, scrolling, cut, hyphenated = {}, {}, set(), {}, set()
    for language, prefix in PREFIXES.items():
        for name, path in PAGE_TYPES.items():
            page.goto(site + prefix + path)
            measured = page.evaluate(OVERFLOW)
            if measured["scrollWidth"] > measured["width"] or measured["wide"]:
                overflowing[f"{language} {name}"] = measured
            breaks = page.evaluate(WORD_BREAKS)
            hyphenated.update(breaks["atHyphen"])
            if breaks["elsewhere"]:
                cut[f"{language} {name}"] = breaks["elsewhere"]
            for region in page.evaluate(SCROLL_REGIONS):
                if region["scrolls"]:
                    scrolling.add(name)
                    if region["role"] != "region" or not region["name"].strip() or region["tabindex"] != "0":
                        unreachable[f"{language} {name}"] = region
    assert overflowing == {}
    assert unreachable == {}
    assert cut == {}
    # The wide tables really are the ones that scroll, and long compounds really
    # break at their soft hyphens (the checks above are not vacuous).
    assert {"organisations", "trips"} <= scrolling
    assert "Kooperations-|vereinbarungen" in hyphenated


# Select2 has drawn its comboboxes and the admin's script has named them.
SELECT2_NAMED = """() => Array.from(document.querySelectorAll('.select2-selection')).every(
  (combobox) => combobox.hasAttribute('aria-label') || (combobox.getAttribute('aria-labelledby') || '').includes(' '))
  && !document.querySelector('select.admin-autocomplete:not([name*=__prefix__]):not(.select2-hidden-accessible)')"""


def axe_violations(browser_page):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(browser_page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
    assert results.response["passes"]  # axe really ran its rules
    return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]]


PASSWORD = "a long test password 123"


@pytest.fixture
def registrar(site):  # noqa: F811
    """A registry administrator, and a record of every model the admin shows that
    the founding data has none of (a document, a token, a webhook endpoint and
    delivery, a group, someone's failed log-ins, an authenticator not yet confirmed)."""
    from axes.models import AccessAttempt, AccessFailureLog
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from agreements.models import Agreement, Organisation, WebhookDelivery, WebhookEndpoint
    from agreements.services import token_create

    from .factories import AgreementDocumentFactory

    user = get_user_model().objects.create_superuser("registrar", "registrar@example.org", PASSWORD)
    amz = Organisation.objects.get(slug="amz")
    agreement = Agreement.objects.get(slug="amz-sa-am-cooperation-2021")
    AgreementDocumentFactory(agreement=agreement, title="Unterzeichnete Fassung", is_public=True)
    token_create(name="AMZ's portal", organisation=amz, created_by=user)
    endpoint = WebhookEndpoint.objects.create(organisation=amz, url="https://hooks.amz.example/registry")
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        webhook_id="msg_1",
        first_cursor=1,
        last_cursor=2,
        entries=2,
        attempted_at=timezone.now(),
        status_code=204,
        succeeded=True,
        latency_ms=12,
    )
    Group.objects.get_or_create(name="registry admin")
    TOTPDevice.objects.create(user=user, name="Phone", confirmed=False)  # the two-factor page confirms it
    attempt = {"username": "mallory", "ip_address": "192.0.2.7", "user_agent": "curl", "path_info": "/admin/login/"}
    AccessAttempt.objects.create(**attempt, get_data="", post_data="username=mallory", failures_since_start=3)
    AccessFailureLog.objects.create(**attempt)
    return user


def log_in(browser_page, site_url, *, language="de"):
    """The registrar logs in, the admin in ``language``."""
    browser_page.set_extra_http_headers({"Accept-Language": language})
    browser_page.goto(site_url + "/admin/login/")
    browser_page.fill("#id_username", "registrar")
    browser_page.fill("#id_password", PASSWORD)
    browser_page.click("input[type=submit]")
    browser_page.wait_for_url("**/admin/")


ADMIN_PAGE_KINDS = ["changelist", "add", "change", "popup", "history", "delete"]


def admin_pages(kind: str, user) -> list[str]:
    """The admin's pages of one kind for every model the admin site registers
    (a model added later is covered without a change here), for the first record
    of each model and as far as the admin lets a registry administrator in."""
    from django.contrib import admin
    from django.test import RequestFactory

    from agreements.admin import ScopedAdminMixin

    request = RequestFactory().get("/admin/")
    request.user = user
    pages = []
    for model, model_admin in admin.site._registry.items():
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        obj = model_admin.get_queryset(request).order_by("pk").first()
        assert obj is not None, f"no {model._meta.label} to show"
        may_add = model_admin.has_add_permission(request)
        may_change = model_admin.has_change_permission(request, obj)
        if kind == "changelist":
            pages.append(base)
        elif kind == "add" and may_add:
            pages.append(base + "add/")
        elif kind == "change":
            pages.append(f"{base}{obj.pk}/change/")  # a read-only view where changes are not allowed
        elif kind == "popup":
            # The related-object windows the pencil and plus next to a related field open.
            pages.append(f"{base}{obj.pk}/change/?_to_field=id&_popup=1")
            if may_add:
                pages.append(base + "add/?_to_field=id&_popup=1")
        elif kind == "history":
            # Our seam shows history to those who may change the record; Django's to those who may see it.
            if may_change or not isinstance(model_admin, ScopedAdminMixin):
                pages.append(f"{base}{obj.pk}/history/")
                history = getattr(model, "history", None)
                version = history.filter(**{model._meta.pk.attname: obj.pk}).first() if history else None
                if version is not None:  # an earlier version, with its "revert" form
                    pages.append(f"{base}{obj.pk}/history/{version.history_id}/")
        elif kind == "delete" and model_admin.has_delete_permission(request, obj):
            pages.append(f"{base}{obj.pk}/delete/")
    return pages


def axe_failures(browser_page, site_url, paths) -> dict:
    failures = {}
    for path in paths:
        response = browser_page.goto(site_url + path)
        assert response.status == 200, path
        browser_page.wait_for_function(SELECT2_NAMED, timeout=5000)
        if violations := axe_violations(browser_page):
            failures[path] = violations
    return failures


@pytest.mark.parametrize("kind", ADMIN_PAGE_KINDS)
def test_every_admin_page_type_of_every_model_passes_axe(site, page, registrar, kind):  # noqa: F811
    """Changelists, add and change forms (with their inlines, Select2 comboboxes
    and two-list selects), the related-object popups, history (list and earlier
    version) and delete confirmations of every model in the admin, in German, as
    a registry administrator."""
    log_in(page, site)
    paths = admin_pages(kind, registrar)
    assert len(paths) >= 10, paths  # the inventory found the models
    assert axe_failures(page, site, paths) == {}


def test_the_admins_other_pages_pass_axe(site, page, registrar):  # noqa: F811
    """Login, index, the two-factor page, password forms, an authenticator's QR
    code, lifecycle forms, import (and its preview), export, a changelist searched,
    filtered and drilled down, a form sent back with errors, the bulk delete
    confirmation, the new token's key, and the logged-out page."""
    from agreements.models import Agreement
    from agreements.resources import AgreementResource

    agreement = Agreement.objects.get(slug="amz-sa-am-cooperation-2021")
    page.set_extra_http_headers({"Accept-Language": "de"})
    page.goto(site + "/admin/login/")
    failures = {"login": violations} if (violations := axe_violations(page)) else {}
    log_in(page, site)
    admin = "/admin/agreements/"
    authenticator = registrar.totpdevice_set.get()
    failures |= axe_failures(
        page,
        site,
        [
            "/admin/",
            "/admin/two-factor/",
            "/admin/password_change/",
            f"/admin/auth/user/{registrar.pk}/password/",
            f"/admin/otp_totp/totpdevice/{authenticator.pk}/config/",
            f"{admin}agreement/{agreement.pk}/lifecycle/terminate/",
            f"{admin}agreement/{agreement.pk}/lifecycle/renew/",
            f"{admin}agreement/?q=AMZ&status__exact=signed&kind__exact=cooperation_agreement",
            f"{admin}agreement/?signed_date__year=2021&signed_date__month=10",
            f"{admin}agreement/import/",
            f"{admin}agreement/export/",
        ],
    )

    def after(action, name):
        action()
        page.wait_for_load_state()
        page.wait_for_function(SELECT2_NAMED, timeout=5000)
        if violations := axe_violations(page):
            failures[name] = violations

    export = AgreementResource().export(queryset=Agreement.objects.filter(pk=agreement.pk))
    page.goto(site + admin + "agreement/import/")
    page.set_input_files(
        "input[type=file]", {"name": "agreements.csv", "mimeType": "text/csv", "buffer": export.csv.encode()}
    )
    page.select_option("select[name=format]", label="csv")
    after(lambda: page.click("input[type=submit].default"), "import preview")
    assert page.locator("input[name=import_file_name]").count() == 1  # the preview, ready to confirm
    page.goto(site + admin + "agreement/add/")
    after(lambda: page.click("input[name=_save]"), "add form with errors")
    assert page.locator(".errornote").count() == 1
    page.goto(site + admin + "topic/")
    page.check("input.action-select >> nth=0")
    page.select_option("select[name=action]", "delete_selected")
    after(lambda: page.click("button[name=index]"), "bulk delete confirmation")
    assert page.locator("input[name=post]").count() == 1
    page.goto(site + admin + "apitoken/add/")
    page.fill("#id_name", "Silicon Saxony's portal")
    after(lambda: page.click("input[name=_save]"), "new token's key")
    page.goto(site + "/admin/")
    after(lambda: page.click("#logout-form button"), "logged out")
    assert failures == {}


def test_admin_inline_fields_and_comboboxes_are_named(site, page, registrar):  # noqa: F811
    """The inline rows' fields are named (their labels are only column headers),
    no column header is empty (axe's best-practice rule, not in the WCAG tags),
    a Select2 combobox is named by its field's label and its value, and a
    two-list select's filter boxes by their icon."""
    from axe_playwright_python.sync_playwright import Axe

    from agreements.models import Agreement

    log_in(page, site, language="en")
    agreement = Agreement.objects.get(slug="amz-sa-am-cooperation-2021")
    page.goto(site + f"/admin/agreements/agreement/{agreement.pk}/change/")
    page.wait_for_function(SELECT2_NAMED, timeout=5000)
    results = Axe().run(page, options={"runOnly": {"type": "rule", "values": ["empty-table-header"]}})
    assert results.response["violations"] == [] and results.response["passes"]
    assert page.get_attribute("#id_parties-0-role", "aria-label")
    assert page.get_attribute("#id_parties-0-DELETE", "aria-label")
    labelled_by = page.get_attribute("#id_predecessor ~ .select2 .select2-selection", "aria-labelledby")
    assert page.locator(f"#{labelled_by.split()[0]}").inner_text().startswith("Follows")
    page.goto(site + f"/admin/auth/user/{registrar.pk}/change/")
    page.wait_for_selector("#id_groups_input")
    icon = page.locator("#id_groups_input").evaluate("(box) => box.labels[0].querySelector('[role=img]').ariaLabel")
    assert icon == "Type into this box to filter down the list of available groups."


# Every box that scrolls sideways: what it is, its role, name and tab stop.
SCROLLING_BOXES = """() => Array.from(document.body.querySelectorAll('*:not(textarea):not(select):not(input)'))
  .filter((box) => ['auto', 'scroll'].includes(getComputedStyle(box).overflowX))
  .filter((box) => box.scrollWidth > box.clientWidth + 1)
  .map((box) => ({
    box: `${box.tagName.toLowerCase()}.${box.className}`,
    role: box.getAttribute('role'),
    name: box.getAttribute('aria-label') || '',
    tabindex: box.getAttribute('tabindex'),
  }))"""


def test_the_admin_reflows_at_320_px_in_german(site, page, registrar):  # noqa: F811
    """Login, index, changelists, the agreement's add and change forms, a trip
    with its inlines, history and a delete confirmation at 320 CSS px in German:
    no sideways page scroll; Django's wide tables (changelist results, tabular
    inlines) scroll inside a region named after them that takes the focus."""
    from agreements.models import Agreement, DelegationTrip

    agreement = Agreement.objects.get(slug="amz-sa-am-cooperation-2021").pk
    page.set_viewport_size({"width": 320, "height": 640})
    page.set_extra_http_headers({"Accept-Language": "de"})
    page.goto(site + "/admin/login/")
    overflowing = {"login": measured} if (measured := page.evaluate(OVERFLOW))["wide"] else {}
    log_in(page, site)
    admin = "/admin/agreements/"
    unnamed, scrolling = {}, {}
    for path in [
        "/admin/",
        admin + "agreement/",
        admin + "organisation/",
        admin + "agreement/add/",
        f"{admin}agreement/{agreement}/change/",
        f"{admin}delegationtrip/{DelegationTrip.objects.get().pk}/change/",
        f"{admin}agreement/{agreement}/history/",
        f"{admin}agreement/{agreement}/delete/",
    ]:
        page.goto(site + path)
        page.wait_for_function(SELECT2_NAMED, timeout=5000)
        page.wait_for_load_state("load")
        measured = page.evaluate(OVERFLOW)
        if measured["scrollWidth"] > measured["width"] or measured["wide"]:
            overflowing[path] = measured
        for box in page.evaluate(SCROLLING_BOXES):
            scrolling.setdefault(path, []).append(box["name"])
            if box["role"] != "region" or not box["name"].strip() or box["tabindex"] != "0":
                unnamed[path] = box
    assert overflowing == {}
    assert unnamed == {}
    # Django's wide tables really scroll in their regions (the checks above are not vacuous).
    assert scrolling[admin + "agreement/"] == ["Vereinbarung zur Änderung auswählen"]
    assert "Parteien" in scrolling[f"{admin}agreement/{agreement}/change/"]


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


# What Swagger UI draws that no stylesheet can mend (its markup, not its looks):
# array-of-choices parameters (kind, status, ordering) as a <select multiple>
# without a label. Pinned, so a Swagger UI that labels them shows up here.
SWAGGER_UI_MARKUP = {
    ("select-name", f'tr[data-param-name="{name}"] > .parameters-col_description > select[multiple=""]')
    for name in ("kind", "ordering", "status")
}


def test_the_api_docs_operations_opened_pass_axe_but_for_swagger_uis_markup(site, page):  # noqa: F811
    """An operation opened (parameters, examples, responses), tried out and
    answered, and a write operation opened: axe finds nothing our stylesheet
    could fix (contrast of notes, buttons, highlighted JSON; examples that
    scrolled in a box the keyboard cannot reach)."""
    from axe_playwright_python.sync_playwright import Axe

    def found():
        results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
        assert results.response["passes"]
        return {(v["id"], node["target"][0]) for v in results.response["violations"] for node in v["nodes"]}

    page.goto(site + "/api/v1/docs/")
    page.wait_for_load_state("networkidle")
    listing = "#operations-agreements-agreements_list"
    page.click(f"{listing} .opblock-summary-control")
    page.wait_for_selector(f"{listing} .opblock-body .parameters")
    page.wait_for_selector(f"{listing} .responses-wrapper .microlight")
    views = {"opened": found()}
    page.click(f"{listing} .try-out__btn")
    page.wait_for_selector(f"{listing} .execute")
    views["trying out"] = found()
    page.click(f"{listing} .execute")
    page.wait_for_selector(f"{listing} .live-responses-table .response-col_status")
    views["answered"] = found()
    creating = "#operations-agreements-agreements_create"
    page.click(f"{creating} .opblock-summary-control")
    page.wait_for_selector(f"{creating} .opblock-body .body-param__example, {creating} .opblock-body .microlight")
    views["write operation opened"] = found()
    assert {view: rest for view, violations in views.items() if (rest := violations - SWAGGER_UI_MARKUP)} == {}
    assert views["opened"] == SWAGGER_UI_MARKUP  # the parameters were drawn (and are still unlabelled)
