"""What crawlers read: ``robots.txt`` and ``sitemap.xml`` (an index of one
sitemap per kind of public page, each address with its German, English and
Polish alternates and an x-default).

A sitemap lists only what the public pages show, asked of the access seam
(``PUBLIC``): published agreements, the organisations, topics and signing
events that have one, every trip, the lists and the legal pages.
"""

import functools

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.core.paginator import Page, Paginator
from django.db.models import Exists, Max, OuterRef
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import get_language

from .access import PUBLIC
from .choices import LegalPageKind
from .models import Agreement, AgreementParty, DelegationTrip, Organisation, SigningEvent, Topic
from .views import cached_page


class _LanguagePaginator(Paginator):
    """Pages of records, each record given once per language: a page of
    records is read from the database, never every record at once (Django's
    i18n sitemap would list them all before taking a page)."""

    def __init__(self, object_list, per_page, languages):
        super().__init__(object_list, per_page)
        self.languages = languages

    def _get_page(self, object_list, number, paginator):
        return Page([(item, code) for item in object_list for code in self.languages], number, paginator)


@functools.cache
def _address_pattern(name: str, language: str) -> str:
    # One reverse() per page kind and language, not per record.
    return reverse(name, kwargs={"slug": "SLUG-PLACEHOLDER"})


class RegistrySitemap(Sitemap):
    i18n = True
    alternates = True
    x_default = True
    # The protocol allows 50,000 addresses a sitemap; each record has one per language.
    limit = 50000 // len(settings.LANGUAGES)
    url_name = ""

    @property
    def paginator(self):
        return _LanguagePaginator(self.items(), self.limit, self._languages())

    def location(self, item):
        return _address_pattern(self.url_name, get_language()).replace("SLUG-PLACEHOLDER", item.slug)

    def lastmod(self, item):
        return item.updated_at

    def get_latest_lastmod(self):
        return self.items().aggregate(latest=Max("updated_at"))["latest"]


def _with_published(model, link: str):
    published = Agreement.objects.visible_to(PUBLIC)
    return model.objects.visible_to(PUBLIC).filter(Exists(published.filter(**{link: OuterRef("pk")})))


class AgreementSitemap(RegistrySitemap):
    url_name = "agreements:agreement_detail"

    def items(self):
        return Agreement.objects.visible_to(PUBLIC).only("slug", "updated_at").order_by("pk")


class OrganisationSitemap(RegistrySitemap):
    url_name = "agreements:organisation_detail"

    def items(self):
        parties = AgreementParty.objects.filter(
            organisation=OuterRef("pk"), agreement__in=Agreement.objects.visible_to(PUBLIC)
        )
        return Organisation.objects.visible_to(PUBLIC).filter(Exists(parties)).only("slug", "updated_at").order_by("pk")


class TopicSitemap(RegistrySitemap):
    url_name = "agreements:topic_detail"

    def items(self):
        return _with_published(Topic, "topics").only("slug", "updated_at").order_by("pk")


class SigningEventSitemap(RegistrySitemap):
    url_name = "agreements:signingevent_detail"

    def items(self):
        return _with_published(SigningEvent, "signing_event").only("slug", "updated_at").order_by("pk")


class TripSitemap(RegistrySitemap):
    url_name = "agreements:trip_detail"

    def items(self):
        return DelegationTrip.objects.visible_to(PUBLIC).only("slug", "updated_at").order_by("pk")


class PageSitemap(RegistrySitemap):
    """The lists and the legal pages."""

    LISTS = ["home", "agreement_list", "organisation_list", "trip_list", "topic_list"]

    def items(self):
        return [*self.LISTS, *LegalPageKind.values]

    def location(self, item):
        return reverse(f"agreements:{item}")

    def lastmod(self, item):
        return None

    def get_latest_lastmod(self):
        return None


SITEMAPS = {
    "pages": PageSitemap,
    "agreements": AgreementSitemap,
    "organisations": OrganisationSitemap,
    "trips": TripSitemap,
    "topics": TopicSitemap,
    "signing-events": SigningEventSitemap,
}


@cached_page
def sitemap_index(request):
    response = sitemap_views.index(request, SITEMAPS, sitemap_url_name="sitemap_section")
    return response.render()


@cached_page
def sitemap_section(request, section):
    return sitemap_views.sitemap(request, SITEMAPS, section=section).render()


def robots_txt(request):
    """Crawlers may read the public pages; not the admin, nor the API (its
    data is on the pages and in the downloads), nor the endless combinations of
    the list's filters (the sitemap names every record)."""
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /api/",
        "Allow: /api/v1/docs/",
        "Disallow: /*?",
        "",
        f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
