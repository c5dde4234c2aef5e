"""A logged-in test client for the benchmarks, second factor given as at a real log-in."""

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from twofactor.policy import otp_required


def logged_in_client(user) -> Client:
    """Return a client logged in as `user`; one who must use two-factor log-in has given it."""
    client = Client()
    client.force_login(user)
    if otp_required(user):
        device, _created = TOTPDevice.objects.get_or_create(
            user=user, name="bench", defaults={"confirmed": True}
        )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
