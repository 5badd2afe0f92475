import datetime
import logging

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from agreements.models import ApiToken, hash_token_key
from registry.second_factor import second_factor_satisfied

logger = logging.getLogger("agreements.api")

# Recording every use would turn each read into a write; once a minute is enough.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


class TokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Token <key>`` (or ``Bearer <key>``).

    A partner token authenticates as the anonymous user carrying the token
    (read-only, sees its organisation's agreements); a staff token as its user.
    """

    keywords = ("token", "bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid Authorization header: expected 'Token <key>'."))
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        token = ApiToken.objects.select_related("user", "organisation").filter(key_hash=hash_token_key(key)).first()
        if token is None:
            logger.info("API access refused: unknown token")
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if token.is_revoked:
            logger.info("API access refused: revoked token %s", token.prefix)
            raise exceptions.AuthenticationFailed(_("This token has been revoked."))
        if token.is_expired:
            logger.info("API access refused: expired token %s", token.prefix)
            raise exceptions.AuthenticationFailed(_("This token has expired."))
        if token.user_id and not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("The user of this token is inactive."))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return (token.user if token.user_id else AnonymousUser(), token)

    def authenticate_header(self, request):
        return 'Token realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The browser session of a staff login, once its second factor is passed
    (a session still waiting for it is anonymous here)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and not second_factor_satisfied(result[0]):
            return None
        return result


class SessionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = SessionAuthentication
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>` (or `Bearer <key>`). Partner tokens are read-only and also see the "
            "non-public agreements their organisation is a party to.",
        }
