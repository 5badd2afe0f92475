"""Whether a session passed the second factor (django-otp). No web imports:
the access seam (``agreements.access``) asks this for every staff request."""

from django_otp import user_has_device

SECOND_FACTOR_GROUP = "second factor required"


def second_factor_required(user) -> bool:
    """Registry administrators require a second factor of a user by adding them to this group."""
    return user.is_authenticated and user.groups.filter(name=SECOND_FACTOR_GROUP).exists()


def second_factor_satisfied(user) -> bool:
    """Logged in with a code (when the user has a device), or not required to.
    Asked by the admin site and the access seam in one request: the answer is
    kept on the request's user object."""
    verified = getattr(user, "is_verified", None)
    if verified is not None and verified():
        return True
    satisfied = getattr(user, "_second_factor_satisfied", None)
    if satisfied is None:
        satisfied = not user_has_device(user) and not second_factor_required(user)
        user._second_factor_satisfied = satisfied
    return satisfied
