"""Encryption at rest in the database: each value bound to its column, keys rotated."""

import io

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from common.encryption import DecryptionError, current_token_prefix, key_id
from common.fields import EncryptedCharField
from exports.models import BackgroundExport
from notifications.models import OutboxMessage
from reissue import services
from reissue.models import Applicant, CardBatch, ImportUpload, ReissueCase
from reissue.resources import CaseResource
from tests.exports.conftest import export, read_rows
from tests.factories import ApplicantFactory, register_case, valid_id_number
from tests.reissue.test_concurrency import winner_then_loser

# Every encrypted column, with its model and field.
COLUMNS = [
    (Applicant, "id_number"),
    (Applicant, "phone"),
    (ReissueCase, "agent_id_number"),
    (OutboxMessage, "phone"),
    (ImportUpload, "content"),
    (CardBatch, "production_file"),
    (BackgroundExport, "content"),
]


@pytest.fixture
def stored(clerk, supervisor, office):
    """A case with an agent and a pending import upload; return their plain values."""
    register_case(
        clerk=clerk,
        office=office,
        applicant=ApplicantFactory.build(phone="13912345678"),
        agent_acts=True,
        agent_name="李代办",
        agent_id_number=valid_id_number(901, region="310101"),
    )
    ImportUpload.objects.create(owner=supervisor, content="aWQsbmFtZQo=")
    CardBatch.objects.create(
        office=office, reference="DC-P2026-0001", sent_at=timezone.now(), production_file="SCwx"
    )
    BackgroundExport.objects.create(
        requester=supervisor,
        content_type=ContentType.objects.get_for_model(ReissueCase),
        source="reissue.admin_exports.build_background_export",
        permission="reissue.export_cases",
        file_format="csv",
        language="en",
        content="aWQK",
    )
    return plain_values()


def plain_values() -> dict:
    return {
        (model, name): list(model.objects.order_by("pk").values_list(name, flat=True))
        for model, name in COLUMNS
    }


def raw_values() -> list[str]:
    """Return the stored text of every non-empty encrypted value."""
    values = []
    with connection.cursor() as cursor:
        for model, name in COLUMNS:
            column = model._meta.get_field(name).column
            cursor.execute(f"SELECT {column} FROM {model._meta.db_table} ORDER BY id")
            values += [value for (value,) in cursor.fetchall() if value]
    return values


def store_as_fernet(key: str, model=None) -> None:
    """Rewrite the stored values (of `model`, else all) as the code before wrote them."""
    fernet = Fernet(key)
    with connection.cursor() as cursor:
        for owner, name in COLUMNS:
            if model not in (None, owner):
                continue
            column = owner._meta.get_field(name).column
            for pk, plain in owner.objects.values_list("pk", name):
                token = fernet.encrypt(plain.encode()).decode() if plain else ""
                cursor.execute(
                    f"UPDATE {owner._meta.db_table} SET {column} = %s WHERE id = %s", [token, pk]
                )


def rotate() -> str:
    output = io.StringIO()
    call_command("rotate_encryption_keys", stdout=output)
    return output.getvalue()


def test_rotation_moves_values_of_before_to_the_new_key_and_format(settings, stored):
    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    store_as_fernet(old_keys[0])
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *old_keys]

    output = rotate()

    assert f"Encrypting under key id {key_id(new_key)}." in output
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old keys are gone now
    values = raw_values()
    assert len(values) == 6  # ID number, phone, agent's number, upload, batch file, export
    assert all(value.startswith(f"v2.{key_id(new_key)}.") for value in values)
    assert plain_values() == stored


def test_a_second_rotation_rewrites_nothing(settings, stored):
    store_as_fernet(settings.FIELD_ENCRYPTION_KEYS[1])  # the older key
    first = rotate()
    rotated = raw_values()

    second = rotate()

    assert "applicants: 1 re-encrypted" in first and "import uploads: 1 re-encrypted" in first
    assert second.count(": 0 re-encrypted") == second.count("\n") - 1 > 0
    assert raw_values() == rotated
    assert all(value.startswith(current_token_prefix()) for value in rotated)
    assert plain_values() == stored


def test_rotation_reaches_only_rows_not_yet_under_the_first_key(settings, stored, clerk, office):
    register_case(clerk=clerk, office=office)  # a second applicant, already current
    store_as_fernet(settings.FIELD_ENCRYPTION_KEYS[0], model=ReissueCase)

    output = rotate()

    assert "applicants: 0 re-encrypted" in output
    assert "reissue cases: 1 re-encrypted" in output  # the other case has no agent


def test_a_number_copied_into_another_column_does_not_decrypt(stored):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE reissue_reissuecase"
            " SET agent_id_number = (SELECT id_number FROM reissue_applicant)"
        )
        cursor.execute("UPDATE reissue_applicant SET phone = id_number")
    with pytest.raises(DecryptionError, match="reissue_reissuecase.agent_id_number"):
        ReissueCase.objects.get()
    with pytest.raises(DecryptionError, match="reissue_applicant.phone"):
        Applicant.objects.get()


def test_every_encrypted_column_is_bound_to_its_own_table_and_column():
    # A renamed table or column changes its binding: it needs a migration that re-encrypts
    # the values (decrypt with the old context, encrypt with the new), then this list.
    contexts = {
        field.encryption_context
        for model in apps.get_models()
        for field in model._meta.local_concrete_fields
        if isinstance(field, EncryptedCharField)
    }
    assert contexts == {
        b"reissue_applicant.id_number",
        b"reissue_applicant.phone",
        b"reissue_reissuecase.agent_id_number",
        b"notifications_outboxmessage.phone",
        b"reissue_importupload.content",
        b"reissue_cardbatch.production_file",
        b"exports_backgroundexport.content",
    }


def test_an_export_shows_numbers_stored_before_and_after_the_change_alike(
    client, settings, supervisor, clerk, office
):
    before = register_case(clerk=clerk, office=office)
    store_as_fernet(settings.FIELD_ENCRYPTION_KEYS[1], model=Applicant)
    after = register_case(clerk=clerk, office=office)
    client.force_login(supervisor)

    response = export(client, "reissue_reissuecase", CaseResource)

    numbers = {row["ID number"] for row in read_rows(response)}
    assert numbers == {before.applicant.id_number, after.applicant.id_number}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_phone_changed_during_a_rotation_keeps_its_new_value(settings, clerk, office):
    case = register_case(clerk=clerk, office=office)
    store_as_fernet(settings.FIELD_ENCRYPTION_KEYS[0], model=Applicant)

    winner_then_loser(
        lambda: services.applicant_update(
            applicant=case.applicant, acting_user=clerk, data={"phone": "13999999999"}
        ),
        rotate,
    )

    assert Applicant.objects.get().phone == "13999999999"
    assert all(value.startswith(current_token_prefix()) for value in raw_values())
