"""Who must give a second factor (a one-time code) after the password: the one place."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, AnonymousUser

from common.auth_backends import group_names

# Those who can see everything (full ID numbers, every office, the audit trail): 等级保护 2.0
# level 3 asks two factors of privileged users. Superusers always.
PRIVILEGED_GROUPS = ("Supervisor", "Auditor")


def otp_required(user: AbstractUser | AnonymousUser) -> bool:
    """Return whether `user` must log in with a one-time code after the password."""
    if not settings.OTP_REQUIRED or not user.is_authenticated or not user.is_active:
        return False
    # Asked by the middleware and the page header: the groups are read once per user object,
    # which lives for one request, with the permissions every admin page reads anyway
    # (common.auth_backends), so a new role counts from the next request.
    required = getattr(user, "_otp_required", None)
    if required is None:
        if user.is_superuser or (settings.OTP_REQUIRED_FOR_ALL_STAFF and user.is_staff):
            required = True
        else:
            required = not group_names(user).isdisjoint(PRIVILEGED_GROUPS)
        user._otp_required = required
    return required
