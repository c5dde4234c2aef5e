"""The sending tasks (django-tasks): one message after its step commits, and the sweep."""

import datetime

from django.conf import settings
from django.utils import timezone
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


@task()
def wipe_old_sms_phones() -> str:
    """Daily: wipe the phone of the finished messages written SMS_PHONE_KEPT_DAYS ago."""
    before = timezone.now() - datetime.timedelta(days=settings.SMS_PHONE_KEPT_DAYS)
    return _("%(count)s phone numbers of old SMS notices wiped") % {
        "count": services.wipe_old_phones(before=before)
    }
