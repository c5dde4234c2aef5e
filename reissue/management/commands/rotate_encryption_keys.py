"""Re-encrypt every stored encrypted value with the first key of FIELD_ENCRYPTION_KEYS.

Rotate a key: put the new key first, keep the old one after it, run this, then drop the old
key from the setting. Reading decrypts with any listed key; saving encrypts with the first,
in the current format (AES-GCM), so this also moves Fernet values of before to it.

Values already under the first key in the current format are left alone: a run that stopped
half-way can be started again, and a second run re-encrypts nothing.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import models, transaction

from common.encryption import current_token_prefix, keyring
from common.fields import EncryptedCharField

BATCH = 1000


def encrypted_fields() -> list[tuple[type[models.Model], list[str]]]:
    """Return each model holding encrypted columns, with the names of those fields."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        names = [
            field.name
            for field in model._meta.local_concrete_fields
            if isinstance(field, EncryptedCharField)
        ]
        if names:
            found.append((model, names))
    return found


def stale(fields: list[str], current: str) -> models.Q:
    """Return the rows with a value of `fields` not yet under the `current` token prefix."""
    # startswith compares the stored text: a pattern lookup does not encrypt its argument.
    condition = models.Q(pk__in=[])
    for name in fields:
        condition |= ~models.Q(**{name: ""}) & ~models.Q(**{f"{name}__startswith": current})
    return condition


def re_encrypt(model: type[models.Model], fields: list[str], current: str) -> int:
    """Re-encrypt the stale rows of `model` in batches; return how many were rewritten."""
    queryset = model.objects.filter(stale(fields, current)).only("pk", *fields).order_by("pk")
    done, last = 0, None
    while True:
        with transaction.atomic():
            # Locked: a clerk's edit between reading and writing a row is not overwritten.
            batch = queryset if last is None else queryset.filter(pk__gt=last)
            rows = list(batch.select_for_update()[:BATCH])
            model.objects.bulk_update(rows, fields)  # values pass through encryption
        done += len(rows)
        if len(rows) < BATCH:
            return done
        last = rows[-1].pk


class Command(BaseCommand):
    help = "Re-encrypt every encrypted value (numbers, pending uploads) with the first key."

    def handle(self, *args, **options):
        current = current_token_prefix()
        self.stdout.write(f"Encrypting under key id {keyring().current_id}.")
        for model, fields in encrypted_fields():
            done = re_encrypt(model, fields, current)
            self.stdout.write(f"{model._meta.verbose_name_plural}: {done} re-encrypted")
