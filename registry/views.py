"""Health endpoints for load balancers and orchestrators."""

import logging

from django.db import DatabaseError, connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
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
