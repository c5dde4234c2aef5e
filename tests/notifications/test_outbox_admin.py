"""The list of SMS notices: scoped by office, phones masked, filtered, searched; send again."""

import importlib

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from common.exceptions import ObjectNotFound
from notifications.backends import development as dev
from notifications.models import MessageState, OutboxMessage
from notifications.services import send_due_messages
from reissue import services
from reissue.models import ReissueCase
from reissue.sms import SMS_SENT_AGAIN, SmsNotSentAgain, sms_send_again
from tests.factories import register_case

LIST = reverse("admin:notifications_outboxmessage_changelist")
TODAY = timezone.localdate


@pytest.fixture(autouse=True)
def empty_outbox():
    dev.outbox.clear()
    yield
    dev.outbox.clear()


def notified_case(clerk, office, **fields) -> ReissueCase:
    case = register_case(clerk=clerk, office=office, **fields)
    return services.case_issue_temp_card(
        case=case, acting_user=clerk, card_number="TMP-0001", issued_on=TODAY()
    )


def message_of(case) -> OutboxMessage:
    return OutboxMessage.objects.get(subject_label=case.reference)


def failed_message_of(case) -> OutboxMessage:
    OutboxMessage.objects.filter(subject_label=case.reference).update(
        state=MessageState.FAILED, attempts=5, next_attempt_at=None, provider_answer="isv.X"
    )
    return message_of(case)


def rows(client, **params) -> str:
    response = client.get(LIST, params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_a_message_carries_its_cases_office(clerk, office):
    case = notified_case(clerk, office)
    assert message_of(case).office_id == office.pk


@pytest.mark.django_db
def test_a_supervisor_sees_the_messages_of_their_offices_only_the_auditor_all(
    client, clerk, supervisor, auditor, office, other_clerk, other_office
):
    ours = notified_case(clerk, office)
    theirs = notified_case(other_clerk, other_office)
    client.force_login(supervisor)
    page = rows(client)
    assert ours.reference in page and theirs.reference not in page
    client.force_login(auditor)
    page = rows(client)
    assert ours.reference in page and theirs.reference in page


@pytest.mark.django_db
@pytest.mark.parametrize("role_user", ["clerk", "reviewer"])
def test_clerks_and_reviewers_do_not_open_the_list(client, request, role_user, office):
    client.force_login(request.getfixturevalue(role_user))
    assert client.get(LIST).status_code == 403


@pytest.mark.django_db
def test_the_phone_is_masked_in_the_list_and_on_the_message_page(client, clerk, auditor, office):
    case = notified_case(clerk, office)
    phone = case.applicant.phone
    client.force_login(auditor)
    message = message_of(case)
    for url in (LIST, reverse("admin:notifications_outboxmessage_change", args=[message.pk])):
        page = client.get(url).content.decode()
        assert message.masked_phone in page and phone not in page


@pytest.mark.django_db
def test_the_list_filters_by_state(client, clerk, auditor, office):
    sent = notified_case(clerk, office)
    send_due_messages()
    opted_out = notified_case(clerk, office, sms_opt_out=True)
    client.force_login(auditor)
    page = rows(client, state="skipped")
    assert opted_out.reference in page and sent.reference not in page
    page = rows(client, state="sent")
    assert sent.reference in page and opted_out.reference not in page


@pytest.mark.django_db
def test_the_list_is_searched_by_reference_or_case_number(client, clerk, auditor, office):
    first, second = notified_case(clerk, office), notified_case(clerk, office)
    client.force_login(auditor)
    page = rows(client, q=first.reference.lower())
    assert first.reference in page and second.reference not in page
    number = int(second.reference.rsplit("-", 1)[1])
    page = rows(client, q=str(number))
    assert second.reference in page and first.reference not in page
    assert rows(client, q="nothing").count("field-subject_label") == 0


def send_again_action(client, *messages):
    return client.post(
        LIST,
        {"action": "send_again", "_selected_action": [m.pk for m in messages]},
        follow=True,
    )


@pytest.mark.django_db
def test_a_supervisor_sends_a_failed_message_again_once_and_it_is_audited(
    client, clerk, supervisor, office
):
    case = notified_case(clerk, office)
    message = failed_message_of(case)
    client.force_login(supervisor)
    response = send_again_action(client, message)
    assert "1 SMS notice queued to be sent again." in response.content.decode()
    message.refresh_from_db()
    assert message.state == MessageState.QUEUED and message.attempts == 0
    send_again_action(client, message)  # a second click: nothing more
    entries = AuditEntry.objects.filter(action=SMS_SENT_AGAIN)
    assert entries.count() == 1 and entries.get().case_id == case.pk
    assert entries.get().actor == supervisor
    send_due_messages()
    message.refresh_from_db()
    assert message.state == MessageState.SENT and len(dev.outbox) == 1


@pytest.mark.django_db
def test_a_sent_or_opted_out_message_is_not_sent_again(client, clerk, supervisor, office):
    sent = notified_case(clerk, office)
    send_due_messages()
    opted_out = notified_case(clerk, office, sms_opt_out=True)
    client.force_login(supervisor)
    response = send_again_action(client, message_of(sent), message_of(opted_out))
    page = response.content.decode()
    assert "was sent: it is not sent again" in page
    assert "does not want SMS notices" in page
    assert message_of(sent).state == MessageState.SENT
    assert message_of(opted_out).state == MessageState.SKIPPED
    assert not AuditEntry.objects.filter(action=SMS_SENT_AGAIN).exists()


@pytest.mark.django_db
def test_a_citizen_who_opted_out_since_is_not_sent_again(clerk, supervisor, office):
    case = notified_case(clerk, office)
    message = failed_message_of(case)
    ReissueCase.objects.filter(pk=case.pk).update(sms_opt_out=True)
    with pytest.raises(SmsNotSentAgain):
        sms_send_again(message=message, acting_user=supervisor)
    assert message_of(case).state == MessageState.FAILED


@pytest.mark.django_db
def test_sent_again_to_the_applicants_phone_now(clerk, supervisor, office):
    case = notified_case(clerk, office)
    message = failed_message_of(case)
    case.applicant.phone = "13900001111"
    case.applicant.save()
    sms_send_again(message=message, acting_user=supervisor)
    send_due_messages()
    assert [sms.phone for sms in dev.outbox] == ["13900001111"]


@pytest.mark.django_db
def test_the_service_refuses_a_forged_call(clerk, auditor, office, other_supervisor):
    message = failed_message_of(notified_case(clerk, office))
    with pytest.raises(ObjectNotFound):  # another office's message looks like a missing one
        sms_send_again(message=message, acting_user=other_supervisor)
    with pytest.raises(PermissionDenied):  # reads everything, changes nothing
        sms_send_again(message=message, acting_user=auditor)
    assert OutboxMessage.objects.get(pk=message.pk).state == MessageState.FAILED


@pytest.mark.django_db
def test_an_auditor_is_offered_no_action(client, clerk, auditor, office):
    failed_message_of(notified_case(clerk, office))
    client.force_login(auditor)
    page = rows(client)
    assert 'name="action"' not in page


@pytest.mark.django_db
def test_messages_written_before_the_office_column_get_their_cases_office(
    client, clerk, supervisor, office
):
    from django.apps import apps

    migration = importlib.import_module("reissue.migrations.0009_outbox_messages_office")
    case = notified_case(clerk, office)
    OutboxMessage.objects.update(office_id=None)
    client.force_login(supervisor)
    assert case.reference not in rows(client)  # unscoped rows are nobody's
    migration.forward(apps, schema_editor=None)
    assert message_of(case).office_id == office.pk
    assert case.reference in rows(client)


@pytest.mark.django_db
def test_the_case_page_leads_a_supervisor_to_its_messages_in_the_list(
    client, clerk, supervisor, office
):
    case = notified_case(clerk, office)
    url = f"{LIST}?q={case.reference}"
    client.force_login(clerk)
    assert url not in client.get(f"/admin/reissue/reissuecase/{case.pk}/change/").content.decode()
    client.force_login(supervisor)
    assert url in client.get(f"/admin/reissue/reissuecase/{case.pk}/change/").content.decode()
    assert case.reference in rows(client, q=case.reference)


@pytest.mark.postgres
@pytest.mark.django_db
def test_send_again_locks_the_case_before_the_message(clerk, supervisor, office):
    """The steps' order: an opt-out recorded meanwhile is waited for and read, never missed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    message = failed_message_of(notified_case(clerk, office))
    with CaptureQueriesContext(connection) as queries:
        sms_send_again(message=message, acting_user=supervisor)
    locks = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    tables = [ReissueCase._meta.db_table, OutboxMessage._meta.db_table]
    first_lock_of = [
        next(i for i, sql in enumerate(locks) if f'FROM "{table}"' in sql) for table in tables
    ]
    assert first_lock_of[0] < first_lock_of[1]
