"""The background tasks of the case work (django-tasks; run by `manage.py db_worker`).

Each is idempotent: run twice, or again after its worker died, it does the work once.
Scheduled by settings.SCHEDULED_JOBS (jobs/); each returns a line for the administrator.
"""

from django.db import transaction
from django.utils.translation import gettext as _
from django_tasks import task

from . import clocks
from .legacy_import import background


@task()
def run_clocks() -> str:
    """Take every clock step due now (each case re-checked under its lock: idempotent)."""
    run = clocks.run_clocks()
    return _(
        "%(lapsed)s loss reports lapsed, %(cancelled)s old cards cancelled, "
        "%(expired)s temporary cards expired, %(overdue)s cases flagged overdue"
    ) % {
        "lapsed": run.lapsed,
        "cancelled": run.old_cards_cancelled,
        "expired": run.temp_cards_expired,
        "overdue": run.flagged_overdue,
    }


@task()
def purge_import_uploads() -> str:
    """Delete the import files left alone for a day (they hold personal numbers).

    Never one a worker is checking or importing; one whose worker stopped is marked failed.
    """
    with transaction.atomic():
        deleted, failed = background.purge_uploads()
    return _(
        "%(deleted)s import uploads deleted, %(failed)s whose worker stopped marked failed"
    ) % {"deleted": deleted, "failed": failed}


@task()
def remind_documents_due() -> str:
    """Daily: an SMS for each promised document due soon (once per promise)."""
    from .notices import remind_documents_due as remind

    return _("%(count)s reminders of documents due written") % {"count": remind()}


@task()
def check_import_upload(upload_id: int, language: str) -> str:
    """Check an uploaded legacy file too long for the request (idempotent: writes nothing)."""
    return background.check_upload(upload_id, language)


@task()
def import_import_upload(upload_id: int, language: str) -> str:
    """Import a checked, confirmed legacy file, once (the upload's state under its lock)."""
    return background.import_upload(upload_id, language)
