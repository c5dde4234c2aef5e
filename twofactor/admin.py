"""django-otp registers admins for its devices; they would show every user's TOTP secret (and
QR code) to a superuser, who could then log in as anyone. The reset page replaces them."""

from django.contrib import admin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
