"""Reads of a user's second factors (django-otp's devices)."""

from django.contrib.auth.models import AbstractUser
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice


def authenticator_of(*, user: AbstractUser) -> TOTPDevice | None:
    """Return the user's confirmed authenticator app (TOTP device), if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()


def has_authenticator(*, user: AbstractUser) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(*, user: AbstractUser) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
