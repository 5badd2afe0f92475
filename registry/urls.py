from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from agreements import sitemaps

admin.site.site_header = _("Cooperation Agreement Registry")
admin.site.site_title = _("Agreement Registry")
admin.site.index_title = _("Registry administration")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("agreements.api.urls")),
    # For crawlers, one of each for every language (each address names its alternates).
    path("robots.txt", sitemaps.robots_txt, name="robots_txt"),
    path("sitemap.xml", sitemaps.sitemap_index, name="sitemap"),
    path("sitemap-<slug:section>.xml", sitemaps.sitemap_section, name="sitemap_section"),
]
# Public pages: German unprefixed, English under /en/, Polish under /pl/.
urlpatterns += i18n_patterns(path("", include("agreements.urls")), prefix_default_language=False)

handler400 = "registry.views.bad_request"
handler403 = "registry.views.permission_denied"
handler404 = "registry.views.page_not_found"
handler500 = "registry.views.server_error"
