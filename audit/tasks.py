"""The daily audit checkpoint as a background task (scheduled by settings.SCHEDULED_JOBS).

On the queue "audit": only the worker on the host that may append to AUDIT_CHECKPOINT_FILE
takes it (`db_worker --queue-name audit,default`).
"""

from django.utils.translation import gettext as _
from django_tasks import task

from .checkpoints import write_checkpoints


@task(queue_name="audit")
def write_audit_checkpoint() -> str:
    """Append a checkpoint of each chain; refused (the task fails) on a broken chain."""
    checkpoints = write_checkpoints()
    return _("Checkpoints written: %(chains)s") % {
        "chains": ", ".join(f"{point.chain} #{point.sequence}" for point in checkpoints)
    }
