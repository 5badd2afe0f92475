"""Writes that answer what they did, and POSTs that are safe to retry.

Every POST that creates or changes records runs ``committed_answer``: the
write and the answer built from it happen in one transaction, so a client
is never told "failed" about a write the server committed (if reading the
answer fails, the write is rolled back with it).

With an ``Idempotency-Key`` header (any printable text up to 255
characters, e.g. a UUID; remembered for 24 hours per user), the answer is
stored in that same transaction: a retry with the same key and the same
request (method, path, body) gets the first answer again with
``Idempotent-Replayed: true``, and nothing is written twice; the same key
with another request is a 422. Only successful answers are kept: a refused
write wrote nothing, and its retry is checked afresh. Two requests with one
key at the same time: the second waits for the first (the key's row is
taken first) and then gets its answer.
"""

import hashlib

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError

from agreements.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
PENDING = 0

PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Makes a retry safe: the same key with the same request within 24 hours returns the first answer "
        "(with Idempotent-Replayed: true) and writes nothing again; the same key with another request is a 422."
    ),
)
RESPONSES = {422: OpenApiResponse(description="The Idempotency-Key was used before for another request.")}


class KeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"

    def __init__(self):
        super().__init__(
            {HEADER: [_("This key was used for another request; use a new key for a new request.")]},
            code=self.default_code,
        )


def _key(request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationError(
            {HEADER: [_("Give a key of 1 to %(max)s printable characters.") % {"max": MAX_KEY_LENGTH}]},
            code="invalid",
        )
    return key


def keep_body(request) -> None:
    """Read a keyed POST's raw body before DRF's parsers consume its stream
    (Django keeps it for them): the request digest is of the bytes sent."""
    if request.method == "POST" and HEADER in request.headers:
        request._request.body  # noqa: B018  # reading it keeps it


def _digest(request) -> str:
    body = request._request.body
    text = f"{request.method} {request.get_full_path()} ".encode() + body
    return hashlib.sha256(text).hexdigest()


def _replay(stored: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(bytes(stored.content), status=stored.status, content_type=stored.content_type)
    if stored.location:
        response["Location"] = stored.location
    response["Idempotent-Replayed"] = "true"
    return response


def committed_answer(view, request, produce):
    """Run ``produce()`` (the write and its answer) in one transaction, the
    answer rendered inside it; with an Idempotency-Key, remember or replay."""
    key = _key(request)
    if key is None:
        with transaction.atomic():
            return _rendered(view, request, produce())
    digest = _digest(request)
    user = request.user
    IdempotencyKey.objects.expired().delete()
    try:
        with transaction.atomic():
            # The key's row first: a concurrent request with this key waits here.
            record = IdempotencyKey.objects.create(
                user=user, key=key, request_digest=digest, status=PENDING, content_type="", content=b""
            )
            response = _rendered(view, request, produce())
            if 200 <= response.status_code < 300:
                record.status = response.status_code
                record.content_type = response.get("Content-Type", "")
                record.content = response.content
                record.location = response.get("Location", "")[:500]
                record.save(update_fields=["status", "content_type", "content", "location"])
            else:
                record.delete()
            return response
    except IntegrityError:
        stored = IdempotencyKey.objects.filter(user=user, key=key).first()
        if stored is None or stored.status == PENDING:
            raise
    if stored.request_digest != digest:
        raise KeyReused()
    return _replay(stored)


def _rendered(view, request, response):
    """The answer in its final bytes, while the write's transaction is open."""
    response = view.finalize_response(request, response)
    if hasattr(response, "render"):
        response.render()
    return response
