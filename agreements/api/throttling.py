from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from agreements.models import ApiToken


class _ConfiguredRateThrottle(SimpleRateThrottle):
    def get_rate(self):
        # Read the setting at request time, so a changed setting takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]


class AnonymousRateThrottle(_ConfiguredRateThrottle):
    """Callers without a token or login: limited per client address."""

    scope = "anonymous"

    def get_cache_key(self, request, view):
        if request.auth is not None or request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PartnerRateThrottle(_ConfiguredRateThrottle):
    """Partner tokens: limited per token, whichever address they come from."""

    scope = "partner"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken) and request.auth.organisation_id:
            return self.cache_format % {"scope": self.scope, "ident": f"token-{request.auth.pk}"}
        return None


class StaffRateThrottle(_ConfiguredRateThrottle):
    """Staff (session or staff token): limited per user."""

    scope = "staff"

    def get_cache_key(self, request, view):
        if request.user.is_authenticated:
            return self.cache_format % {"scope": self.scope, "ident": f"user-{request.user.pk}"}
        return None
