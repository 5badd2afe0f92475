from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import translation

from . import views

HEALTH_VIEWS = {"/healthz": views.healthz, "/readyz": views.readyz}


class HealthCheckMiddleware:
    """Answer /healthz and /readyz first in the chain.

    Load balancers and container health checks call by IP address, which
    ALLOWED_HOSTS (rightly) refuses, and over plain HTTP, which the HTTPS
    redirect would bounce. These two answers reveal nothing, so they skip both.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = HEALTH_VIEWS.get(request.path_info)
        if view is not None:
            return view(request)
        return self.get_response(request)


class LocaleMiddleware(DjangoLocaleMiddleware):
    """Django's LocaleMiddleware, except that the API and the admin follow the
    caller's Accept-Language (or language cookie).

    The public pages use URL prefixes with German unprefixed, and Django then
    treats *every* unprefixed path as German, including /api/ and /admin/.
    """

    NEGOTIATED = ("/api/", "/admin/")

    def process_request(self, request):
        if request.path_info.startswith(self.NEGOTIATED):
            translation.activate(translation.get_language_from_request(request, check_path=False))
            request.LANGUAGE_CODE = translation.get_language()
            return
        super().process_request(request)
