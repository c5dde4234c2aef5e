"""The background tasks of the exports (django-tasks; run by `manage.py db_worker`).

Each is idempotent: run twice, or again after its worker died, it does the work once.
"""

from django.utils.translation import gettext as _
from django_tasks import task

from . import services


@task()
def build_background_export(export_id: int) -> str:
    """Build one export asked for on a list's export page (once; see the service)."""
    return services.background_export_build(export_id)


@task()
def purge_expired_exports() -> str:
    """Delete the exports kept past their day (scheduled: settings.SCHEDULED_JOBS)."""
    return _("%(count)s expired exports deleted") % {"count": services.purge_expired_exports()}
