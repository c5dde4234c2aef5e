"""Append a signed checkpoint of each hash chain to AUDIT_CHECKPOINT_FILE (run daily).

The scheduler runs it daily too (audit.tasks.write_audit_checkpoint); this is the same by hand.
"""

from django.core.management.base import BaseCommand, CommandError

from audit.checkpoints import CheckpointRefused, write_checkpoints


class Command(BaseCommand):
    help = "Append a signed checkpoint line per audit chain to AUDIT_CHECKPOINT_FILE."

    def handle(self, *args, **options):
        try:
            checkpoints = write_checkpoints()
        except CheckpointRefused as refusal:
            raise CommandError(str(refusal)) from refusal
        for checkpoint in checkpoints:
            self.stdout.write(checkpoint.line())  # so cron's mail carries a copy too
