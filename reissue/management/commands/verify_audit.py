"""Walk the hash chains of the audit trail and the access log; name the first break."""

from django.core.management.base import BaseCommand, CommandError

from reissue.chain import verify_chain
from reissue.models import AuditEntry, PersonalDataAccess

CHAINS = {"audit trail": AuditEntry, "access log": PersonalDataAccess}


class Command(BaseCommand):
    help = "Verify that no audit or access record was changed, removed or inserted."

    def handle(self, *args, **options):
        broken = []
        for name, model in CHAINS.items():
            first_break = verify_chain(model)
            if first_break is None:
                count = model.objects.count()
                self.stdout.write(self.style.SUCCESS(f"{name}: {count} entries, chain intact"))
            else:
                broken.append(f"{name}: {first_break}")
        if broken:
            raise CommandError("; ".join(broken))
