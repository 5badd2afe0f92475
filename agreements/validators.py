"""Checks on uploaded files: the content decides what a file is, never its name."""

import puremagic
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

# The kinds of document the registry keeps, by detected MIME type, with the
# extension their stored (generated) name gets.
DOCUMENT_TYPES = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
}
# Enough of the file's start for every signature above.
_HEAD_BYTES = 8192


def detect_document_type(file) -> str | None:
    """The MIME type of ``file`` as its content says (one of DOCUMENT_TYPES),
    or None. Reads only the first bytes and rewinds the file."""
    file.seek(0)
    head = file.read(_HEAD_BYTES)
    file.seek(0)
    if not head:
        return None
    try:
        matches = puremagic.magic_string(head)
    except puremagic.PureError:
        return None
    # The best match must be a kind we keep: a PE or ELF executable renamed to
    # ".pdf" matches its own signature first, whatever the name says.
    best = max(matches, key=lambda match: (match.confidence, len(match.byte_match)), default=None)
    if best is None or best.offset != 0 or best.mime_type not in DOCUMENT_TYPES:
        return None
    return best.mime_type


def validate_document_file(file) -> None:
    if getattr(file, "_committed", False):
        return  # already stored: it was checked when it was uploaded
    if file.size > settings.DOCUMENT_MAX_BYTES:
        raise ValidationError(
            _("The file is %(size)s; documents may be at most %(limit)s."),
            code="file_too_large",
            params={"size": filesizeformat(file.size), "limit": filesizeformat(settings.DOCUMENT_MAX_BYTES)},
        )
    if detect_document_type(file) is None:
        raise ValidationError(
            _("This file is not a PDF, PNG or JPEG document (its content was checked, not its name)."),
            code="file_type",
        )
