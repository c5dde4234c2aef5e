"""The sending tasks (django-tasks): one message after its step commits, and the sweep."""

from django.utils.translation import gettext as _
from django_tasks import task

from . import services


@task()
def send_sms(message_id: int) -> str:
    return services.send_message(message_id)


@task()
def send_due_sms() -> str:
    """Every minute: what the after-commit task missed, and the retries now due."""
    counts = services.send_due_messages()
    return _("%(sent)s SMS sent, %(queued)s to retry, %(failed)s failed") % counts
