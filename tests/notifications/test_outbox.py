"""The outbox: written with the step, sent after commit, once per event, retried, opted out."""

import datetime
import re
import threading

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from claims import services as claim_services
from notifications.backends import SendResult
from notifications.backends import development as dev
from notifications.models import MessageState, OutboxMessage
from notifications.services import retry_delay, send_due_messages, send_message
from notifications.tasks import send_sms
from reissue import services
from reissue.models import DocumentPromise, LostItems, ReissueCase
from reissue.notices import remind_documents_due
from tests.factories import PolicyFactory, claim_with_items, register_case, reissued_case

ID_NUMBER = re.compile(r"\d{17}[\dXx]")
TODAY = timezone.localdate


@pytest.fixture(autouse=True)
def empty_outbox():
    dev.outbox.clear()
    yield
    dev.outbox.clear()


@pytest.fixture
def office_with_phone(office):
    office.phone = "010-64001234"
    office.save()
    return office


def issue_temp_card(case, clerk):
    return services.case_issue_temp_card(
        case=case, acting_user=clerk, card_number="TMP-0001", issued_on=TODAY()
    )


def arrived_case(clerk, office, **fields):
    case = register_case(
        clerk=clerk, office=office, lost_items=LostItems.SS_CARD, presented_id_card=True, **fields
    )
    case = services.case_order_card(case=case, acting_user=clerk, ordered_on=TODAY())
    case = services.case_record_card_produced(
        case=case, acting_user=clerk, card_number="SS00000009", produced_on=TODAY()
    )
    return services.case_record_card_arrived(case=case, acting_user=clerk, arrived_on=TODAY())


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_step_writes_its_notice_and_the_worker_sends_it_after_commit(clerk, office_with_phone):
    case = arrived_case(clerk, office_with_phone)
    (message,) = OutboxMessage.objects.filter(event="card_arrived")
    assert message.event_key == f"reissue.reissuecase:{case.pk}:card_arrived"
    assert message.state == MessageState.QUEUED and dev.outbox == []
    # After commit, its sending task went into the queue; a worker runs it.
    (queued,) = DBTaskResult.objects.filter(task_path="notifications.tasks.send_sms")
    assert queued.args_kwargs["args"] == [message.pk]
    send_sms.call(message.pk)
    message.refresh_from_db()
    assert message.state == MessageState.SENT and message.attempts == 1
    assert message.sent_at is not None and message.provider_message_id
    (sms,) = dev.outbox
    assert sms.phone == case.applicant.phone and sms.template_code == "SMS_CARD_ARRIVED"
    assert case.reference in sms.text and "010-64001234" in sms.text
    assert office_with_phone.name in sms.text
    assert not ID_NUMBER.search(sms.text) and case.applicant.id_number not in sms.text
    assert case.applicant.name not in sms.text or len(case.applicant.name) == 1
    assert sms.text.startswith(case.applicant.name[0])


@pytest.mark.django_db
def test_a_step_that_rolls_back_writes_no_notice(clerk, office):
    case = register_case(clerk=clerk, office=office)
    with pytest.raises(RuntimeError), transaction.atomic():
        issue_temp_card(case, clerk)
        assert OutboxMessage.objects.filter(event="temp_card_issued").count() == 1
        raise RuntimeError("the step's transaction fails after the step")
    assert not OutboxMessage.objects.exists()
    case.refresh_from_db()
    assert case.temp_card_number == ""


@pytest.mark.django_db
def test_one_event_gives_one_message_however_often_it_is_written(clerk, office):
    case = issue_temp_card(register_case(clerk=clerk, office=office), clerk)
    from reissue.notices import temp_card_issued

    with transaction.atomic():
        temp_card_issued(ReissueCase.objects.get(pk=case.pk))  # the hook again (a retried step)
    assert OutboxMessage.objects.filter(event="temp_card_issued").count() == 1


@pytest.mark.django_db
def test_sending_again_never_sends_twice(clerk, office):
    case = issue_temp_card(register_case(clerk=clerk, office=office), clerk)
    message = OutboxMessage.objects.get(subject_label=case.reference)
    send_message(message.pk)
    send_message(message.pk)  # the task retried, then the sweep
    send_due_messages()
    assert len(dev.outbox) == 1
    message.refresh_from_db()
    assert message.state == MessageState.SENT and message.attempts == 1


class Refusing:
    """A provider that refuses (flow control) until told otherwise."""

    accept = False
    permanent = False
    calls = 0

    def send(self, message):
        Refusing.calls += 1
        if Refusing.accept:
            return SendResult(accepted=True, message_id="ok-1", answer="OK")
        return SendResult(
            accepted=False,
            answer="isv.BUSINESS_LIMIT_CONTROL: 触发流控",
            permanent=Refusing.permanent,
        )


@pytest.fixture
def refusing(settings):
    settings.SMS_BACKEND = f"{__name__}.Refusing"
    Refusing.accept, Refusing.permanent, Refusing.calls = False, False, 0
    return Refusing


@override_settings(SMS_RETRY_BASE_SECONDS=60, SMS_MAX_ATTEMPTS=4)
def test_the_back_off_doubles():
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]


@pytest.mark.django_db
@override_settings(SMS_RETRY_BASE_SECONDS=60, SMS_MAX_ATTEMPTS=3)
def test_a_refused_message_is_retried_with_back_off_then_failed(clerk, office, refusing):
    case = issue_temp_card(register_case(clerk=clerk, office=office), clerk)
    message = OutboxMessage.objects.get(subject_label=case.reference)
    send_due_messages()  # the first attempt
    message.refresh_from_db()
    assert message.state == MessageState.QUEUED and message.attempts == 1
    first_retry = message.next_attempt_at
    assert first_retry - message.last_attempt_at == datetime.timedelta(seconds=60)
    assert "BUSINESS_LIMIT_CONTROL" in message.provider_answer
    # Not due yet: the sweep leaves it.
    assert send_due_messages(now=first_retry - datetime.timedelta(seconds=1))["queued"] == 0
    assert refusing.calls == 1
    send_due_messages(now=first_retry)
    message.refresh_from_db()
    assert message.attempts == 2
    assert message.next_attempt_at - message.last_attempt_at == datetime.timedelta(seconds=120)
    send_due_messages(now=message.next_attempt_at)
    message.refresh_from_db()
    assert message.state == MessageState.FAILED and message.attempts == 3
    assert message.next_attempt_at is None
    assert send_due_messages(now=timezone.now() + datetime.timedelta(days=1))["failed"] == 0
    assert refusing.calls == 3


@pytest.mark.django_db
def test_a_message_accepted_on_retry_is_sent(clerk, office, refusing):
    case = issue_temp_card(register_case(clerk=clerk, office=office), clerk)
    message = OutboxMessage.objects.get(subject_label=case.reference)
    send_due_messages()
    refusing.accept = True
    send_due_messages(now=timezone.now() + datetime.timedelta(hours=1))
    message.refresh_from_db()
    assert message.state == MessageState.SENT and message.attempts == 2
    assert message.provider_message_id == "ok-1"


@pytest.mark.django_db
def test_a_permanent_refusal_fails_at_once(clerk, office, refusing):
    refusing.permanent = True
    case = issue_temp_card(register_case(clerk=clerk, office=office), clerk)
    message = OutboxMessage.objects.get(subject_label=case.reference)
    send_due_messages()
    message.refresh_from_db()
    assert message.state == MessageState.FAILED and message.attempts == 1


@pytest.mark.django_db
def test_an_opted_out_citizen_gets_no_sms_and_the_case_says_so(clerk, office, admin_client):
    case = issue_temp_card(register_case(clerk=clerk, office=office, sms_opt_out=True), clerk)
    assert case.sms_told_at is not None
    (message,) = OutboxMessage.objects.filter(subject_label=case.reference)
    assert message.state == MessageState.SKIPPED and message.phone == ""
    assert dev.outbox == []
    page = admin_client.get(f"/admin/reissue/reissuecase/{case.pk}/change/").content.decode()
    assert "not sent (opted out)" in page and "The citizen does not want SMS notices." in page


@pytest.mark.django_db
def test_the_case_page_lists_its_messages_with_the_phone_masked(clerk, office, admin_client):
    case = issue_temp_card(register_case(clerk=clerk, office=office), clerk)
    send_due_messages()
    page = admin_client.get(f"/admin/reissue/reissuecase/{case.pk}/change/").content.decode()
    assert 'id="sms-messages"' in page and "sms-sent" in page
    panel = page[page.index('id="sms-messages"') :]
    panel = panel[: panel.index("</section>")]
    phone = case.applicant.phone
    assert "*" * (len(phone) - 4) + phone[-4:] in panel
    assert phone not in panel


@pytest.mark.django_db
def test_the_reimbursement_decided_and_paid_are_told(
    clerk, office_with_phone, reviewer, supervisor
):
    PolicyFactory(office=office_with_phone)
    case = reissued_case(clerk=clerk, office=office_with_phone)
    claim = claim_with_items(case=case, clerk=clerk, amounts=("300.00",), submit=True)
    claim = claim_services.claim_approve(claim=claim, acting_user=reviewer)
    claim_services.claim_pay(claim=claim, acting_user=supervisor, payment_reference="PAY-9")
    events = list(
        OutboxMessage.objects.filter(subject_label=case.reference)
        .order_by("id")
        .values_list("event", "text")
    )
    # (The rating link came when the card was made at the counter: ratings/.)
    assert [event for event, _text in events] == ["rating_invited", "claim_approved", "claim_paid"]
    events = events[1:]
    for _event, text in events:
        assert "010-64001234" in text and case.reference in text and not ID_NUMBER.search(text)
    assert "140.00元" in events[1][1]  # (300 - 100 deductible) * 70 %


@pytest.mark.django_db
def test_a_document_due_soon_is_reminded_once(clerk, office):
    case = register_case(clerk=clerk, office=office, presented_hukou_book=False)
    DocumentPromise.objects.create(
        case=case, document="id_copy", due_on=TODAY() + datetime.timedelta(days=2)
    )
    DocumentPromise.objects.create(
        case=case, document="employer_letter", due_on=TODAY() + datetime.timedelta(days=5)
    )
    assert remind_documents_due() == 1
    assert remind_documents_due() == 0  # run again the same day, or the next: no second SMS
    (message,) = OutboxMessage.objects.filter(event="document_due")
    assert "身份证" in message.text or "户口" in message.text
    due = TODAY() + datetime.timedelta(days=2)
    assert f"{due.month}月{due.day}日" in message.text


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_at_once_send_a_message_once(clerk, office, settings):
    settings.SMS_BACKEND = f"{__name__}.Slow"
    case = issue_temp_card(register_case(clerk=clerk, office=office), clerk)
    message = OutboxMessage.objects.get(subject_label=case.reference)
    Slow.calls = 0
    outcomes = []

    def worker():
        from django.db import connection

        try:
            outcomes.append(send_message(message.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    message.refresh_from_db()
    assert message.state == MessageState.SENT and message.attempts == 1
    assert Slow.calls == 1
    assert sorted(outcomes) == ["sent", "skipped"]  # the other found it locked, or sent


class Slow:
    calls = 0

    def send(self, message):
        import time

        Slow.calls += 1
        time.sleep(0.3)  # long enough for the other worker to find the row locked
        return SendResult(accepted=True, message_id="slow-1", answer="OK")


@pytest.mark.django_db
def test_registering_records_that_the_citizen_was_told_and_declined(client, clerk, office):
    from django.urls import reverse

    from common.id_numbers import id_number_digest
    from tests.factories import applicant_fields

    client.force_login(clerk)
    page = client.get(reverse("admin:reissue_reissuecase_add")).content.decode()
    assert 'name="sms_opt_out"' in page and "Tell the citizen that notices" in page
    person = applicant_fields()
    response = client.post(
        reverse("admin:reissue_reissuecase_add"),
        {
            **person,
            "office": office.pk,
            "lost_items": LostItems.BOTH,
            "loss_kind": "lost",
            "loss_date": TODAY().isoformat(),
            "presented_hukou_book": "on",
            "sms_opt_out": "on",
        },
    )
    assert response.status_code == 302
    case = ReissueCase.objects.get(applicant__id_number_hash=id_number_digest(person["id_number"]))
    assert case.sms_opt_out is True and case.sms_told_at is not None
