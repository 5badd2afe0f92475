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
    if isinstance(exc, exceptions.ParseError) and exc.__context__ is not None:
        exc = unreadable_body(exc.__context__)
    return drf_exception_handler(exc, context)


def unreadable_body(cause: BaseException) -> exceptions.ParseError:
    """A body a parser could not read, said in the caller's language: DRF's
    parsers answer with their own English text and the decoder's ("JSON parse
    error - unexpected character: ..."), in an answer otherwise translated."""
    line, column = getattr(cause, "lineno", None), getattr(cause, "colno", None)
    if line is None or column is None:
        return exceptions.ParseError(_("The request body could not be read."))
    return exceptions.ParseError(
        _("The request body is not valid JSON (line %(line)d, column %(column)d).") % {"line": line, "column": column}
    )
