"""Two-factor log-in: enrolment, recovery codes, the code check at log-in and the reset.

Built on django-otp's devices: a TOTP device is the authenticator app, a static device holds
the recovery codes. Every change to a user's second factors goes to the audit trail.
"""

import datetime
from base64 import b32encode

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditAction
from audit.services import audit_record

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "authenticator"
RECOVERY_DEVICE_NAME = "recovery codes"
# django-otp's TOTP tokens have 6 digits; a recovery code has 8 letters and digits (base32).
TOTP_DIGITS = 6


class SecondFactorThrottled(Exception):
    """Too many wrong codes in a row: the device takes none before `until`."""

    def __init__(self, until: datetime.datetime) -> None:
        super().__init__(until)
        self.until = until


def normalise_code(token: str) -> str:
    """Return a typed code without spaces or dashes, in lower case ("123 456", "abcd-efgh")."""
    return "".join(token.split()).replace("-", "").lower()


def secret_for_typing(device: TOTPDevice) -> str:
    """Return the device's secret in base32, in groups of four, to type into an app."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[start : start + 4] for start in range(0, len(secret), 4))


def otp_device_enrol(*, user: AbstractUser) -> TOTPDevice:
    """Return the user's authenticator awaiting its first code, creating one with a new secret."""
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
        return device


def _user_record(user: AbstractUser) -> AbstractUser:
    # request.user is a lazy proxy (twice, with django-otp's middleware); the audit trail
    # records the type of the object it is given.
    return get_user_model().objects.get(pk=user.pk)


def otp_device_confirm(*, device: TOTPDevice, token: str) -> bool:
    """Confirm `device` with a code from the app; it replaces the user's earlier authenticator.

    A wrong code counts toward the device's throttling, as at log-in; raise
    SecondFactorThrottled while the device waits after wrong codes.
    """
    throttled_until = None
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().filter(pk=device.pk).first()
        if locked is None or locked.confirmed:
            return False
        allowed, details = locked.verify_is_allowed()
        if not allowed:
            throttled_until = details.get("locked_until")
        elif locked.verify_token(normalise_code(token)):
            locked.confirmed = True
            locked.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user_id=locked.user_id).exclude(pk=locked.pk).delete()
            owner = get_user_model().objects.get(pk=locked.user_id)
            audit_record(obj=owner, case=None, action=AuditAction.TWO_FACTOR_ENROLLED, actor=owner)
            device.refresh_from_db()
            return True
    if throttled_until is not None:
        raise SecondFactorThrottled(throttled_until)
    return False


def otp_recovery_codes_generate(*, user: AbstractUser) -> list[str]:
    """Replace the user's recovery codes with new ones and return them (shown once)."""
    owner = _user_record(user)
    with transaction.atomic():
        device, _created = StaticDevice.objects.select_for_update().get_or_create(
            user=owner, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
        audit_record(obj=owner, case=None, action=AuditAction.RECOVERY_CODES_GENERATED, actor=owner)
    return codes


def otp_token_verify(*, user: AbstractUser, token: str) -> Device | None:
    """Return the user's device that accepts `token` (a TOTP or a recovery code), else None.

    Raise SecondFactorThrottled when the devices that could take it wait after wrong codes.
    A used TOTP code and a used recovery code are never accepted again (django-otp).
    """
    token = normalise_code(token)
    model = TOTPDevice if len(token) == TOTP_DIGITS and token.isdigit() else StaticDevice
    throttled_until = None
    with transaction.atomic():
        devices = model.objects.select_for_update().filter(user=user, confirmed=True)
        for device in devices.order_by("pk"):
            allowed, details = device.verify_is_allowed()
            if not allowed:
                throttled_until = details.get("locked_until")
            elif device.verify_token(token):
                return device
    if throttled_until is not None:
        raise SecondFactorThrottled(throttled_until)
    return None


def otp_devices_reset(*, user: AbstractUser, acting_user: AbstractUser, reason: str) -> int:
    """Remove all of the user's second factors (lost phone); they enrol again at next log-in.

    Return the number of devices removed. Recorded in the audit trail with the reason.
    """
    owner = _user_record(user)
    with transaction.atomic():
        removed = 0
        for model in (TOTPDevice, StaticDevice):
            removed += model.objects.filter(user=owner).delete()[1].get(model._meta.label, 0)
        audit_record(
            obj=owner,
            case=None,
            action=AuditAction.TWO_FACTOR_RESET,
            actor=acting_user,
            comment=f"{owner.get_username()}: {reason}",
        )
    return removed
