"""Demo only: fixed, public TOTP secrets for the demo users of `manage.py seed_demo`.

Each secret is derived from the user name by a public rule, so anyone can make the codes:
they protect nothing, exactly like the demo password. Never on a production database.
"""

import hashlib

from django.contrib.auth.models import AbstractUser
from django_otp.plugins.otp_totp.models import TOTPDevice

from .services import AUTHENTICATOR_NAME, secret_for_typing


def demo_key(username: str) -> str:
    """Return the demo TOTP key (hex, 20 bytes) of the demo user `username`."""
    return hashlib.sha1(f"reissue-desk-demo-totp:{username}".encode()).hexdigest()


def demo_device_give(*, user: AbstractUser) -> TOTPDevice | None:
    """Give the demo user a confirmed authenticator with the demo secret, unless they have one.

    Return the demo device, or None when the user set up their own.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name=AUTHENTICATOR_NAME, key=demo_key(user.get_username()), confirmed=True
        )
    return device if device.key == demo_key(user.get_username()) else None


def demo_secret(device: TOTPDevice) -> str:
    return secret_for_typing(device).replace(" ", "")
