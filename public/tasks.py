"""The public pages' background task (django-tasks): their rate-limit rows do not pile up."""

from django.utils.translation import gettext as _
from django_tasks import task

from . import services


@task()
def purge_public_looks() -> str:
    """Hourly: delete the looks past the rate limits' window (PUBLIC_LOOK_WINDOW_SECONDS)."""
    return _("%(count)s old public page looks deleted") % {"count": services.purge_public_looks()}
