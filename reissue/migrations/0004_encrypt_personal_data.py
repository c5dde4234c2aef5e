"""Step 2 of 3: encrypt the ID and phone numbers already stored, and hash the ID numbers.

Safe to run on a partly converted table: values that are already tokens are left alone.
The reverse decrypts, so nothing is lost either way.
"""

from django.db import migrations

from reissue.encryption import decrypt, encrypt, keyed_hash, looks_encrypted

BATCH = 2000


def _encrypted(value: str) -> str:
    return value if not value or looks_encrypted(value) else encrypt(value)


def _plain(value: str) -> str:
    return decrypt(value) if value and looks_encrypted(value) else value


def encrypt_rows(apps, schema_editor):
    Applicant = apps.get_model("reissue", "Applicant")
    ReissueCase = apps.get_model("reissue", "ReissueCase")
    for applicant in Applicant.objects.iterator(chunk_size=BATCH):
        number = _plain(applicant.id_number).strip().upper()
        applicant.id_number_hash = keyed_hash(number)
        applicant.id_number = _encrypted(number)
        applicant.phone = _encrypted(applicant.phone)
        applicant.save(update_fields=["id_number", "id_number_hash", "phone"])
    for case in ReissueCase.objects.exclude(agent_id_number="").iterator(chunk_size=BATCH):
        case.agent_id_number = _encrypted(case.agent_id_number)
        case.save(update_fields=["agent_id_number"])


def decrypt_rows(apps, schema_editor):
    Applicant = apps.get_model("reissue", "Applicant")
    ReissueCase = apps.get_model("reissue", "ReissueCase")
    for applicant in Applicant.objects.iterator(chunk_size=BATCH):
        applicant.id_number = _plain(applicant.id_number)
        applicant.phone = _plain(applicant.phone)
        applicant.id_number_hash = None
        applicant.save(update_fields=["id_number", "id_number_hash", "phone"])
    for case in ReissueCase.objects.exclude(agent_id_number="").iterator(chunk_size=BATCH):
        case.agent_id_number = _plain(case.agent_id_number)
        case.save(update_fields=["agent_id_number"])


class Migration(migrations.Migration):
    dependencies = [("reissue", "0003_personal_data_columns_to_text")]

    operations = [migrations.RunPython(encrypt_rows, decrypt_rows)]
