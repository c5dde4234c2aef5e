"""SMS backends, chosen by settings.SMS_BACKEND like Django's EMAIL_BACKEND."""

from django.conf import settings
from django.utils.module_loading import import_string

from .base import BaseSmsBackend, OutgoingSms, SendResult

__all__ = ["BaseSmsBackend", "OutgoingSms", "SendResult", "get_backend"]


def get_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()
