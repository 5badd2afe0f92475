"""Writes that follow rules. Keyword-only, typed, atomic, validated."""

import datetime
import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .models import ApiToken, Organisation, hash_token_key

# "cooperation agreement registry": makes leaked keys easy to spot in logs and secret scanners
TOKEN_KEY_PREFIX = "car_"  # noqa: S105 - a prefix, not a secret


@transaction.atomic
def token_create(
    *,
    name: str,
    organisation: Organisation | None = None,
    user: AbstractBaseUser | None = None,
    expires_in_days: int | None = None,
    expires_at: datetime.datetime | None = None,
    created_by: AbstractBaseUser | None = None,
) -> tuple[ApiToken, str]:
    """Create an API token for a partner organisation or a staff user.

    Returns the token and its key. The key is not stored anywhere (only its
    hash), so this is the one moment it can be shown.
    """
    if expires_in_days is not None:
        if expires_in_days < 1:
            raise ValidationError({"expires_at": "A token must be valid for at least one day."})
        expires_at = timezone.now() + datetime.timedelta(days=expires_in_days)
    key = TOKEN_KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        organisation=organisation,
        user=user,
        prefix=key[:12],
        key_hash=hash_token_key(key),
        created_by=created_by,
        expires_at=expires_at,
    )
    token.full_clean()
    token._history_user = created_by
    token.save()
    return token, key


@transaction.atomic
def token_revoke(*, token: ApiToken, revoked_by: AbstractBaseUser | None = None) -> ApiToken:
    """Revoke a token for good; using it afterwards answers 401."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token._history_user = revoked_by
        token.save(update_fields=["revoked_at"])
    return token
