"""Login protection: which address a request comes from and the answer to a
locked-out login (django-axes); whether a session passed the second factor
(django-otp)."""

import datetime

from django.conf import settings
from django.utils.translation import gettext as _
from django_otp import user_has_device

from .views import _error

SECOND_FACTOR_GROUP = "second factor required"


def second_factor_required(user) -> bool:
    """Registry administrators require a second factor of a user by adding them to this group."""
    return user.is_authenticated and user.groups.filter(name=SECOND_FACTOR_GROUP).exists()


def second_factor_satisfied(user) -> bool:
    """Logged in with a code (when the user has a device), or not required to."""
    verified = getattr(user, "is_verified", None)
    if verified is not None and verified():
        return True
    return not user_has_device(user) and not second_factor_required(user)


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
