"""Health endpoints for load balancers and orchestrators, and the error
answers (our own pages in the visitor's language, JSON under /api/; never a
traceback or SQL)."""

import logging
import sys

from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request):
    """The process is alive and answering; touches nothing else."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    """Ready to serve: every configured database answers a trivial query."""
    for alias in connections:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except DatabaseError as exc:
            logger.warning("Readiness check failed for database %r: %s", alias, exc.__class__.__name__)
            # A broken connection must not be reused by the next request.
            connections[alias].close_if_unusable_or_obsolete()
            response = JsonResponse(
                {"status": "unavailable", "reason": f"database {alias!r} is unreachable"}, status=503
            )
            response["Retry-After"] = "5"
            return response
    return JsonResponse({"status": "ok"})


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


@requires_csrf_token
def server_error(request):
    """500, or 503 with Retry-After when the database is unreachable or a query
    ran over the statement timeout: both pass, and the next request reconnects."""
    _type, exc, _tb = sys.exc_info()
    if isinstance(exc, OperationalError | InterfaceError):
        for connection in connections.all(initialized_only=True):
            connection.close_if_unusable_or_obsolete()
        return _error(
            request,
            503,
            _("Temporarily unavailable"),
            _("The registry cannot answer right now. Please try again in a moment."),
        )
    return _error(request, 500, _("Something went wrong"), _("The error has been logged. Please try again later."))
