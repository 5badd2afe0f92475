"""Health endpoints for load balancers and orchestrators, and the error
answers (our own pages in the visitor's language, JSON under /api/; never a
traceback or SQL)."""

import logging
import sys

from django.core.cache import caches
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_GET

from .cache import ResilientRedisCache
from .database import outage_log, watchdog

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request):
    """The process is alive and answering; touches nothing else."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    """Ready to serve: every configured database answers a trivial query (503
    when one does not). Redis is optional: when it does not answer, the
    registry still serves (from the database, slower), so the answer stays
    200 and says ``"status": "degraded", "cache": "unreachable"``."""
    for alias in connections:
        if watchdog.database_hung:
            return _unready(alias, "hung (watchdog)")
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except DatabaseError as exc:
            # A broken connection must not be reused by the next request.
            connections[alias].close_if_unusable_or_obsolete()
            return _unready(alias, exc.__class__.__name__)
    default_cache = caches["default"]
    if isinstance(default_cache, ResilientRedisCache):
        if default_cache.reachable():
            return JsonResponse({"status": "ok", "cache": "ok"})
        return JsonResponse({"status": "degraded", "cache": "unreachable"})
    return JsonResponse({"status": "ok"})


def _unready(alias: str, reason: str):
    logger.warning("Readiness check failed for database %r: %s", alias, reason)
    response = JsonResponse({"status": "unavailable", "reason": f"database {alias!r} is unreachable"}, status=503)
    response["Retry-After"] = "5"
    response._has_been_logged = True  # the line above says it
    return response


RETRY_AFTER_SECONDS = "5"


def _error(request, status: int, heading: str, message: str):
    if request.path_info.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=status)
    else:
        # Rendered with the request when that is safe (the language switcher
        # needs it); a 5xx page renders without context processors, which might
        # need the database that failed.
        context = {"heading": heading, "message": message}
        html = loader.get_template("errors/error.html").render(context, request if status < 500 else None)
        response = HttpResponse(html, status=status)
    if status == 503:
        response["Retry-After"] = RETRY_AFTER_SECONDS
    response["Cache-Control"] = "no-store"
    return response


@requires_csrf_token
def bad_request(request, exception=None):
    return _error(request, 400, _("Bad request"), _("The request could not be understood."))


@requires_csrf_token
def permission_denied(request, exception=None):
    return _error(request, 403, _("Access denied"), _("You may not open this page."))


@requires_csrf_token
def page_not_found(request, exception=None):
    return _error(request, 404, _("Page not found"), _("There is no page at this address."))


def csrf_failure(request, reason=""):
    logger.info("CSRF check failed for %s %s", request.method, request.path)
    return _error(
        request,
        403,
        _("Access denied"),
        _("The form could not be verified (it may have expired). Go back, reload the page and try again."),
    )


def service_unavailable(request):
    return _error(
        request,
        503,
        _("Temporarily unavailable"),
        _("The registry cannot answer right now. Please try again in a moment."),
    )


@requires_csrf_token
def server_error(request):
    """500, or 503 with Retry-After when the database is unreachable or a query
    ran over the statement timeout: both pass, and the next request reconnects.
    A 503 logs one line, and its traceback only once per outage."""
    _type, exc, _tb = sys.exc_info()
    if isinstance(exc, OperationalError | InterfaceError):
        for connection in connections.all(initialized_only=True):
            connection.close_if_unusable_or_obsolete()
        first_line = (str(exc).strip().splitlines() or [""])[0]
        outage_log.refused(request, f"{exc.__class__.__name__}: {first_line}", exc)
        response = service_unavailable(request)
        response._has_been_logged = True  # instead of Django's traceback for each
        return response
    return _error(request, 500, _("Something went wrong"), _("The error has been logged. Please try again later."))
