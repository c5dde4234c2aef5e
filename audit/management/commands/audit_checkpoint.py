"""Append a signed checkpoint of each hash chain to AUDIT_CHECKPOINT_FILE (run daily)."""

from django.core.management.base import BaseCommand, CommandError

from audit.chain import verify_chain
from audit.checkpoints import append_checkpoints, checkpoint_now, checkpoint_path
from audit.models import AuditEntry, PersonalDataAccess

MODELS = [AuditEntry, PersonalDataAccess]


class Command(BaseCommand):
    help = "Append a signed checkpoint line per audit chain to AUDIT_CHECKPOINT_FILE."

    def handle(self, *args, **options):
        path = checkpoint_path()
        if path is None:
            raise CommandError("AUDIT_CHECKPOINT_FILE is empty: there is nowhere to write.")
        for model in MODELS:
            # A checkpoint vouches for the chain: never for one already broken.
            first_break = verify_chain(model)
            if first_break is not None:
                raise CommandError(f"{model.CHAIN}: {first_break}; no checkpoint written")
        checkpoints = checkpoint_now(chains=[model.CHAIN for model in MODELS])
        append_checkpoints(path, checkpoints)
        for checkpoint in checkpoints:
            self.stdout.write(checkpoint.line())  # so cron's mail carries a copy too
