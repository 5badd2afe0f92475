"""Login protection: which address a request comes from and the answer to a
locked-out login (django-axes)."""

import datetime

from django.conf import settings
from django.utils.translation import gettext as _

from .views import _error


def client_ip(request) -> str:
    """The caller's address: REMOTE_ADDR, or, behind API_NUM_PROXIES trusted
    proxies, the address the outermost of them saw. Whatever a client puts in
    X-Forwarded-For beyond that is ignored, so rotating it gains nothing."""
    proxies = settings.REST_FRAMEWORK["NUM_PROXIES"]
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        addresses = [address.strip() for address in forwarded.split(",")]
        return addresses[-min(proxies, len(addresses))]
    return request.META.get("REMOTE_ADDR", "")


def lockout_response(request, original_response=None, credentials=None):
    cool_off = settings.AXES_COOLOFF_TIME
    response = _error(
        request,
        429,
        _("Too many failed logins"),
        _("This login is locked for %(minutes)d minutes after repeated failures. Try again later.")
        % {"minutes": cool_off // datetime.timedelta(minutes=1)},
    )
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
