import logging
import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponse, JsonResponse
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import translation
from django.utils.translation import gettext as _

from . import views
from .database import outage_log, watchdog

HEALTH_VIEWS = {"/healthz": views.healthz, "/readyz": views.readyz}


class DatabaseGuardMiddleware:
    """First in the chain: a request runs under the database watchdog, and
    while the database is known to hang it is refused at once with 503
    instead of joining the wait (registry/database.py). /healthz touches
    nothing and always answers; /readyz reports the hang itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/healthz":
            return self.get_response(request)
        outage_log.note_answers()
        if watchdog.database_hung and request.path_info != "/readyz":
            outage_log.refused(request, "the database does not answer")
            # Before the locale middleware: answer in the request's language, not the
            # one this thread's previous request left active.
            with translation.override(LocaleMiddleware.language_for(request)):
                response = views.service_unavailable(request)
            response._has_been_logged = True  # the line above says it
            return response
        with watchdog.watching():
            return self.get_response(request)


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

    @classmethod
    def language_for(cls, request) -> str:
        """The language this middleware gives ``request`` (for answers made before it runs)."""
        if request.path_info.startswith(cls.NEGOTIATED):
            return translation.get_language_from_request(request, check_path=False)
        return translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE

    def process_request(self, request):
        if request.path_info.startswith(self.NEGOTIATED):
            translation.activate(translation.get_language_from_request(request, check_path=False))
            request.LANGUAGE_CODE = translation.get_language()
            return
        super().process_request(request)


class RequestSizeLimitMiddleware:
    """Refuse a request body over its limit with 413 before any of it is read:
    REQUEST_BODY_MAX_BYTES for a multipart upload (the largest legitimate body
    is a document), DATA_UPLOAD_MAX_MEMORY_SIZE for every other body (JSON,
    form data), which parsers such as DRF's read whole into memory."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        upload = request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data")
        if length > (settings.REQUEST_BODY_MAX_BYTES if upload else settings.DATA_UPLOAD_MAX_MEMORY_SIZE):
            message = _("The request is too large.")
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": message}, status=413)
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class StaffSessionTimeoutMiddleware:
    """End a logged-in session after SESSION_IDLE_SECONDS without a request, or
    SESSION_COOKIE_AGE after the login whatever the activity. The last-seen
    time is written at most once a minute, not on every request."""

    SEEN = "registry_session_seen"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            logged_in = int(user.last_login.timestamp()) if user.last_login else now
            seen = request.session.get(self.SEEN, logged_in)
            if now - seen > settings.SESSION_IDLE_SECONDS or now - logged_in > settings.SESSION_COOKIE_AGE:
                logging.getLogger("registry.security").info("Session of user %s timed out", user.pk)
                logout(request)
            elif now - seen >= 60:
                request.session[self.SEEN] = now
        return self.get_response(request)
