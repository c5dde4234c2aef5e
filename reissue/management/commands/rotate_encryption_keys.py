"""Re-encrypt every stored personal number with the first key of FIELD_ENCRYPTION_KEYS.

Rotate a key: put the new key first, keep the old one after it, run this, then drop the old
key from the setting. Reading decrypts with any listed key; saving encrypts with the first.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from reissue.models import Applicant, ReissueCase

BATCH = 1000


class Command(BaseCommand):
    help = "Re-encrypt the ID and phone numbers with the current (first) encryption key."

    def handle(self, *args, **options):
        for model, fields in [
            (Applicant, ["id_number", "phone"]),
            (ReissueCase, ["agent_id_number"]),
        ]:
            done = 0
            queryset = model.objects.only("pk", *fields).order_by("pk")
            for start in range(0, queryset.count(), BATCH):
                with transaction.atomic():
                    rows = list(queryset[start : start + BATCH])
                    model.objects.bulk_update(rows, fields)  # values pass through encryption
                done += len(rows)
            self.stdout.write(f"{model._meta.verbose_name_plural}: {done} re-encrypted")
