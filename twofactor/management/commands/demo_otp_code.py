"""Print the current one-time code of a demo user (seed_demo's demo secret). Demo only."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from twofactor.demo import demo_key


class Command(BaseCommand):
    help = "Print the current one-time code of a demo user (DEBUG only, demo secrets only)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if not settings.DEBUG:
            raise CommandError("demo_otp_code runs only with DEBUG on (development settings).")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username}.")
        device = TOTPDevice.objects.filter(user=user, confirmed=True, key=demo_key(username))
        device = device.first()
        if device is None:
            raise CommandError(f"{username} has no demo authenticator (run seed_demo).")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
