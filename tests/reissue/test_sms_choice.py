"""The citizen changes their mind about SMS notices after registration (a step at the counter)."""

import threading

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from common.exceptions import ObjectNotFound
from notifications.backends import SendResult
from notifications.backends import development as dev
from notifications.models import MessageState, OutboxMessage
from notifications.services import send_due_messages, send_message
from reissue import services
from reissue.models import ReissueCase
from tests.factories import register_case, reissued_case
from tests.reissue.test_admin import step_url
from tests.reissue.test_concurrency import run_together
from workflow.services import WorkflowError

TODAY = timezone.localdate


@pytest.fixture(autouse=True)
def empty_outbox():
    dev.outbox.clear()
    yield
    dev.outbox.clear()


def with_temp_card(case, clerk):
    return services.case_issue_temp_card(
        case=case, acting_user=clerk, card_number="TMP-0001", issued_on=TODAY()
    )


def change(case, user, *, opt_out):
    return services.case_change_sms_choice(case=case, acting_user=user, opt_out=opt_out)


@pytest.mark.django_db
def test_opting_out_is_recorded_with_when_told_and_audited(clerk, office):
    case = register_case(clerk=clerk, office=office)
    with time_machine.travel("2026-12-03 10:00 +0800", tick=False):
        case = change(case, clerk, opt_out=True)
    case.refresh_from_db()
    assert case.sms_opt_out is True and case.state == "reported"
    assert timezone.localtime(case.sms_told_at).strftime("%Y-%m-%d %H:%M") == "2026-12-03 10:00"
    entry = case.audit_entries.get(action="change_sms_choice")
    assert entry.actor == clerk and entry.changes["sms_opt_out"] == ["False", "True"]


@pytest.mark.django_db
def test_the_queued_notices_of_a_citizen_who_opts_out_are_not_sent(clerk, office):
    case = with_temp_card(register_case(clerk=clerk, office=office), clerk)
    change(case, clerk, opt_out=True)
    (message,) = OutboxMessage.objects.filter(subject_label=case.reference)
    assert message.state == MessageState.SKIPPED and message.phone == ""
    send_due_messages()
    assert dev.outbox == []


@pytest.mark.django_db
def test_a_notice_sent_before_the_opt_out_stays_sent(clerk, office):
    case = with_temp_card(register_case(clerk=clerk, office=office), clerk)
    send_due_messages()
    change(case, clerk, opt_out=True)
    assert OutboxMessage.objects.get(subject_label=case.reference).state == MessageState.SENT


@pytest.mark.django_db
def test_opting_in_again_brings_the_next_notices(clerk, office):
    case = register_case(clerk=clerk, office=office, sms_opt_out=True)
    change(case, clerk, opt_out=False)
    case = with_temp_card(ReissueCase.objects.get(pk=case.pk), clerk)
    send_due_messages()
    assert len(dev.outbox) == 1 and case.reference in dev.outbox[0].text


@pytest.mark.django_db
def test_the_same_choice_again_is_refused_with_a_message(clerk, office):
    case = register_case(clerk=clerk, office=office)
    with pytest.raises(ValidationError, match="already gets SMS notices"):
        change(case, clerk, opt_out=False)
    assert not case.audit_entries.filter(action="change_sms_choice").exists()


@pytest.mark.django_db
def test_a_finished_case_keeps_its_choice(clerk, office):
    case = services.case_close(case=reissued_case(clerk=clerk, office=office), acting_user=clerk)
    with pytest.raises(WorkflowError, match="cannot be taken"):
        change(case, clerk, opt_out=True)


@pytest.mark.django_db
def test_a_forged_call_is_refused(clerk, office, other_clerk, reviewer):
    case = register_case(clerk=clerk, office=office)
    with pytest.raises(ObjectNotFound):
        change(case, other_clerk, opt_out=True)
    with pytest.raises(PermissionDenied):
        change(case, reviewer, opt_out=True)
    assert ReissueCase.objects.get(pk=case.pk).sms_opt_out is False


@pytest.mark.django_db
def test_the_clerk_records_it_on_the_case_page(client, clerk, office):
    case = register_case(clerk=clerk, office=office)
    client.force_login(clerk)
    page = client.get(step_url(case, "change_sms_choice")).content.decode()
    assert "does not want SMS notices" in page
    response = client.post(
        step_url(case, "change_sms_choice"), {"opt_out": "1", "expected_state": case.state}
    )
    assert response.status_code == 302
    assert ReissueCase.objects.get(pk=case.pk).sms_opt_out is True
    again = client.post(
        step_url(case, "change_sms_choice"), {"opt_out": "1", "expected_state": case.state}
    )
    assert (
        again.status_code == 200 and "already does not want SMS notices" in again.content.decode()
    )


class SlowProvider:
    """Accepts, after a while: the opt-out arrives while the message is being sent."""

    started = None

    def send(self, message):
        import time

        SlowProvider.started.set()
        time.sleep(0.5)
        return SendResult(accepted=True, message_id="slow-1", answer="OK")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_opt_out_while_the_notice_is_being_sent_leaves_it_sent(clerk, office, settings):
    settings.SMS_BACKEND = f"{__name__}.SlowProvider"
    SlowProvider.started = threading.Event()
    case = with_temp_card(register_case(clerk=clerk, office=office), clerk)
    message = OutboxMessage.objects.get(subject_label=case.reference)

    def opt_out():
        SlowProvider.started.wait(5)  # the worker holds the message's row now
        return change(case, clerk, opt_out=True)

    sent, changed = run_together(lambda: send_message(message.pk), opt_out)
    assert sent == "sent" and isinstance(changed, ReissueCase)
    message.refresh_from_db()
    assert message.state == MessageState.SENT  # it went: the record says so
    assert ReissueCase.objects.get(pk=case.pk).sms_opt_out is True
