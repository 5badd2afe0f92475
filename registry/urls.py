from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

admin.site.site_header = _("Cooperation Agreement Registry")
admin.site.site_title = _("Agreement Registry")
admin.site.index_title = _("Registry administration")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("agreements.api.urls")),
    # Until the public pages exist, the front page leads staff to the admin.
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
