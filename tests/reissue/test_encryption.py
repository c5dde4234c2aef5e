"""Encryption at rest: existing rows are converted by the migration, keys can rotate."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from reissue.encryption import decrypt
from reissue.models import Applicant
from tests.factories import ApplicantFactory, register_case

BEFORE = [("reissue", "0003_personal_data_columns_to_text")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_encrypts_existing_rows_and_loses_nothing():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    plain = ApplicantFactory.build()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO reissue_applicant (name, id_number, birth_date, sex, phone,"
            " hukou_address, hukou_police_station) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [plain.name, plain.id_number, "1960-01-01", "M", plain.phone, "地址", "派出所"],
        )
    assert old.get_model("reissue", "Applicant").objects.count() == 1

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    applicant = Applicant.objects.get()
    assert (applicant.id_number, applicant.phone) == (plain.id_number, plain.phone)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM reissue_applicant")
        assert plain.id_number not in cursor.fetchone()[0]
    assert Applicant.objects.filter(id_number_hash=applicant.id_number_hash).exists()


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
