"""Encrypted backups: no personal data readable in the file, and a restore brings every row back."""

import io

import gnupg
import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command

from reissue.models import Applicant

PASSPHRASE = "throwaway-test-passphrase"
# What an unencrypted dump begins with: SQLite's file header, pg_dump's custom format.
PLAIN_DUMP_HEADERS = (b"SQLite format 3", b"PGDMP")


@pytest.fixture
def backup_key(tmp_path, monkeypatch):
    """Make a throwaway key pair for the backup recipient, in a keyring of its own."""
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("GNUPGHOME", str(home))  # what dbbackup's gpg reads
    gpg = gnupg.GPG(gnupghome=str(home))
    key = gpg.gen_key(
        gpg.gen_key_input(
            name_email=settings.DBBACKUP_GPG_RECIPIENT,
            passphrase=PASSPHRASE,
            key_type="EDDSA",
            key_curve="ed25519",
            subkey_type="ECDH",
            subkey_curve="cv25519",
        )
    )
    assert key.fingerprint, key.stderr
    return key


def snapshot() -> dict[str, list[dict]]:
    """Return every row of the project's models and of the users and groups."""
    models = [
        *apps.get_app_config("reissue").get_models(),
        *apps.get_app_config("claims").get_models(),
        *apps.get_app_config("auth").get_models(),
    ]
    return {model._meta.label: list(model.objects.order_by("pk").values()) for model in models}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_encrypted_backup_hides_id_numbers_and_restores_every_row(backup_key, tmp_path):
    call_command("seed_demo")
    before = snapshot()
    id_numbers = [applicant.id_number.encode() for applicant in Applicant.objects.all()]
    backup = tmp_path / "reissue.dump.gpg"

    call_command("dbbackup", "--encrypt", "--output-path", str(backup), "--noinput")

    data = backup.read_bytes()
    assert data and not data.startswith(PLAIN_DUMP_HEADERS)
    assert not [number for number in id_numbers if number in data]

    call_command("flush", "--noinput")
    assert not Applicant.objects.exists()

    restore = ["--decrypt", "--passphrase", PASSPHRASE, "--input-path", str(backup), "--noinput"]
    call_command("dbrestore", *restore)

    after = snapshot()
    assert {label: len(rows) for label, rows in after.items()} == {
        label: len(rows) for label, rows in before.items()
    }
    assert after == before
    assert len(before["reissue.ReissueCase"]) >= 50 and len(id_numbers) >= 50
    call_command("verify_audit", stdout=io.StringIO())  # the chains survived the round trip
