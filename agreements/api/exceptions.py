import logging

from django.db import IntegrityError
from django.db.models import ProtectedError
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger("agreements.api")
REFUSALS = (exceptions.NotAuthenticated, exceptions.AuthenticationFailed, exceptions.PermissionDenied)


def exception_handler(exc, context):
    """DRF's handler, plus clear 409 answers where stored data forbids a write
    (the write's transaction has been rolled back, nothing was changed).
    Refused access is logged: method, path and caller kind, never a token."""
    if isinstance(exc, REFUSALS):
        request = context["request"]
        anonymous = f"user {request.user.pk}" if request.user.pk else "anonymous"
        caller = "token" if request.auth is not None else anonymous
        logger.info("API access refused (%s): %s %s by %s", exc.status_code, request.method, request.path, caller)
    if isinstance(exc, ProtectedError):
        blockers = sorted({str(obj) for obj in exc.protected_objects})[:10]
        return Response(
            {"detail": _("This record is still referred to and cannot be deleted."), "referred_to_by": blockers},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, IntegrityError):
        return Response(
            {"detail": _("The change conflicts with data stored meanwhile; nothing was saved. Try again.")},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)
