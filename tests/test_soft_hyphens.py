"""Soft hyphens in long German compounds (issue 15 part 5, reflow at 320 px):
in the text a page shows, and nowhere else — not in <title> or meta tags,
the sitemap, feeds, downloads, the API or what search matches. Where they
make words break in Chromium is tested in tests/test_browser_accessibility.py."""

import re

import pytest
from django.template import Context, Template
from django.utils.safestring import mark_safe

from agreements.legal import ensure_legal_pages
from agreements.templatetags.hyphenation import SOFT_HYPHEN, soft_hyphenate

from .helpers import body

PAGES = [
    "/",
    "/agreements/amz-sa-am-cooperation-2021/",
    "/organisations/",
    "/organisations/amz/",
    "/trips/saxon-delegation-poland-2021/",
    "/signing-events/katowice-2021-10-07/",
    "/topics/software-development/",
    "/imprint/",
    "/privacy/",
    "/statistics/",
    "/map/",
]


def test_long_compounds_get_soft_hyphens_between_their_parts():
    assert soft_hyphenate("Kooperationsvereinbarungsregisters") == "Kooperations\xadvereinbarungs\xadregisters"
    assert soft_hyphenate("Unterzeichnete Kooperationsvereinbarungen") == (
        "Unterzeichnete Kooperations\xadvereinbarungen"
    )
    assert soft_hyphenate("Softwareentwicklung, Datenschutzerklärung") == (
        "Software\xadentwicklung, Datenschutz\xaderklärung"
    )
    # Short words, a part too short to stand alone, and other languages stay whole.
    assert (
        soft_hyphenate("Software Kooperationsrat Umowa o współpracy") == "Software Kooperationsrat Umowa o współpracy"
    )
    # Markup and attribute values stay as they are; only text between tags changes.
    html = '<a href="/kooperationsvereinbarungen/" title="Kooperationsvereinbarungen">Kooperationsvereinbarungen</a>'
    assert soft_hyphenate(html) == (
        '<a href="/kooperationsvereinbarungen/" title="Kooperationsvereinbarungen">Kooperations\xadvereinbarungen</a>'
    )


def test_the_filter_escapes_what_it_is_given_unless_it_is_safe_html():
    template = Template("{% load hyphenation %}{{ text|soft_hyphens }}|{{ html|soft_hyphens }}")
    rendered = template.render(
        Context({"text": "<b>Kooperationsvereinbarung</b>", "html": mark_safe("<b>Kooperationsvereinbarung</b>")})
    )
    assert rendered == ("&lt;b&gt;Kooperations\xadvereinbarung&lt;/b&gt;|<b>Kooperations\xadvereinbarung</b>")


@pytest.fixture
def german_site(founding_data):
    ensure_legal_pages()


def head_and_body(html: str) -> tuple[str, str]:
    head, _, rest = html.partition("</head>")
    return head, rest


@pytest.mark.django_db
def test_pages_show_soft_hyphens_in_their_text_and_never_in_their_head(client, german_site):
    shown = {}
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        head, page_body = head_and_body(body(response))
        assert SOFT_HYPHEN not in head, path  # <title>, meta description, OpenGraph, canonical and alternates
        shown[path] = page_body.count(SOFT_HYPHEN)
        # Attributes a page shows nowhere but in tools (titles, labels, values) have none either.
        assert not re.search(r'="[^"]*\xad[^"]*"', page_body), path
    assert shown["/agreements/amz-sa-am-cooperation-2021/"] >= 2  # the site name and the title
    assert all(count >= 1 for count in shown.values()), shown  # the site name on every page
    html = body(client.get("/agreements/amz-sa-am-cooperation-2021/"))
    assert "<h1>Kooperations\xadvereinbarung zwischen AMZ und SA&amp;AM</h1>" in html
    assert "<title>Kooperationsvereinbarung zwischen AMZ und SA&amp;AM – " in html


@pytest.mark.django_db
def test_downloads_feeds_the_sitemap_and_the_api_have_no_soft_hyphens(client, german_site):
    paths = [
        "/sitemap.xml",
        "/sitemap-agreements.xml",
        "/robots.txt",
        "/feeds/agreements/",
        "/calendar.ics",
        "/agreements.csv",
        "/agreements.json",
        "/statistics/by-year.csv",
        "/map/links.csv",
        "/api/v1/agreements/",
        "/api/v1/agreements/amz-sa-am-cooperation-2021/",
        "/api/v1/topics/",
        "/api/v1/statistics/",
    ]
    for path in paths:
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="de")
        if response.status_code == 404 and path.startswith("/sitemap-"):
            continue  # the sitemap index names its sections; checked through it below
        assert response.status_code == 200, path
        assert SOFT_HYPHEN not in body(response), path
    for section in re.findall(r"<loc>https?://[^/]+(/sitemap-[^<]+)</loc>", body(client.get("/sitemap.xml"))):
        assert SOFT_HYPHEN not in body(client.get(section)), section


@pytest.mark.django_db
def test_search_finds_the_word_the_heading_shows_and_echoes_it_unchanged(client, german_site):
    html = body(client.get("/", {"q": "Kooperationsvereinbarung"}))
    assert "amz-sa-am-cooperation-2021" in html
    assert 'value="Kooperationsvereinbarung"' in html


@pytest.mark.django_db
def test_the_admin_site_name_breaks_at_soft_hyphens_but_its_title_does_not(admin_client):
    head, page_body = head_and_body(body(admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="de")))
    assert SOFT_HYPHEN not in head
    assert "Register der Kooperations\xadvereinbarungen</a>" in page_body
