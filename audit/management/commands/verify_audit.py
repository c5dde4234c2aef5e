"""Walk the hash chains of the audit trail and the access log; name the first break.

Also compare each chain with its latest checkpoint (AUDIT_CHECKPOINT_FILE), which catches
what the chain alone cannot: its newest entries cut off together with the head.
"""

from django.core.management.base import BaseCommand, CommandError

from audit.chain import verify_chain
from audit.checkpoints import checkpoint_mismatch, checkpoint_path, read_checkpoints
from audit.models import AuditEntry, PersonalDataAccess, misfiled_entries

CHAINS = {"audit trail": AuditEntry, "access log": PersonalDataAccess}


class Command(BaseCommand):
    help = "Verify that no audit or access record was changed, removed or inserted."

    def handle(self, *args, **options):
        broken = []
        checkpoints = self._checkpoints(broken)
        for name, model in CHAINS.items():
            first_break = verify_chain(model)
            if first_break is not None:
                broken.append(f"{name}: {first_break}")
                continue
            checkpoint = checkpoints.get(model.CHAIN) if checkpoints is not None else None
            mismatch = checkpoint and checkpoint_mismatch(model, checkpoint)
            if mismatch:
                broken.append(f"{name}: {mismatch}")
                continue
            if model is AuditEntry and (misfiled := self._misfiled()):
                broken.append(f"{name}: {misfiled}")
                continue
            count = model.objects.count()
            self.stdout.write(self.style.SUCCESS(f"{name}: {count} entries, chain intact"))
            if checkpoints is not None:
                self.stdout.write(f"  latest checkpoint: {checkpoint or 'none yet'}")
        if broken:
            raise CommandError("; ".join(broken))

    @staticmethod
    def _misfiled() -> str:
        entries = misfiled_entries().order_by("sequence")
        first = entries.values_list("sequence", flat=True).first()
        if first is None:
            return ""
        return (
            f"{entries.count()} entries filed under an office not their case's "
            f"(the first #{first}): hidden from that office's supervisors"
        )

    def _checkpoints(self, broken: list[str]):
        path = checkpoint_path()
        if path is None:
            self.stdout.write("Checkpoints are off (AUDIT_CHECKPOINT_FILE is empty).")
            return None
        if not path.exists():
            self.stdout.write(f"No checkpoint file {path} yet (run audit_checkpoint daily).")
            return {}
        found = read_checkpoints(path)
        if found.forged_lines:
            lines = ", ".join(str(number) for number in found.forged_lines)
            broken.append(f"{path}: line(s) {lines} malformed or not signed with the chain key")
        self.stdout.write(f"Checkpoints read from {path}.")
        return found.latest
