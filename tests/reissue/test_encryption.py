"""Encryption at rest: keys can rotate."""

import io

from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from common.encryption import decrypt
from reissue.models import Applicant
from tests.factories import register_case


def test_rotating_keys_re_encrypts_with_the_new_key(settings, clerk, office):
    case = register_case(clerk=clerk, office=office)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *settings.FIELD_ENCRYPTION_KEYS]

    call_command("rotate_encryption_keys", stdout=io.StringIO())

    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone now
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM reissue_applicant")
        token = cursor.fetchone()[0]
    assert decrypt(token) == case.applicant.id_number
    assert Applicant.objects.get().id_number == case.applicant.id_number
