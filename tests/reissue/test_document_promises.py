"""Accepting a case with a secondary document missing (容缺受理): the promise, its limit, the
case that cannot finish without it, the deadline counted again, and who may do it."""

import datetime
import html
import re

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from common.exceptions import ObjectNotFound
from reissue import services
from reissue.case_workflow import CaseState, SecondaryDocument
from reissue.document_forms import PromiseDocumentForm
from reissue.models import DocumentPromise, LostItems
from tests.factories import register_case, reissued_case
from workdays.calendar import start_of_day
from workdays.models import CalendarDay, DayKind
from workflow.services import WorkflowError

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
ID_COPY = SecondaryDocument.ID_COPY


def change_url(case):
    return reverse("admin:reissue_reissuecase_change", args=[case.pk])


def add_url(case):
    return reverse("admin:reissue_reissuecase_promise_add", args=[case.pk])


def received_url(promise):
    return reverse("admin:reissue_reissuecase_promise_received", args=[promise.case_id, promise.pk])


def print_url(promise):
    return reverse("admin:reissue_reissuecase_promise", args=[promise.case_id, promise.pk])


def promise(case, user, *, document=ID_COPY, due_on=None):
    return services.case_promise_document(
        case=case, acting_user=user, document=document, due_on=due_on or case.service_due_on
    )


@pytest.fixture
def case(clerk, office):
    return register_case(clerk=clerk, office=office)


# The promise's limits -------------------------------------------------------------------------


def test_a_promise_due_after_the_service_deadline_is_refused(clerk, case):
    with pytest.raises(ValidationError) as refused:
        promise(case, clerk, due_on=case.service_due_on + datetime.timedelta(days=1))
    assert refused.value.message_dict == {
        "due_on": [f"No later than the service deadline, {case.service_due_on.isoformat()}."]
    }
    assert not DocumentPromise.objects.exists()


def test_a_promise_due_on_the_service_deadline_is_accepted_and_audited(clerk, case):
    made = promise(case, clerk, due_on=case.service_due_on)
    assert (made.promised_on, made.due_on, made.received_on) == (
        TODAY(),
        case.service_due_on,
        None,
    )
    entry = AuditEntry.objects.filter(case=case, action="document_promised").get()
    assert entry.actor == clerk


def test_a_main_document_can_never_be_promised(clerk, case):
    with pytest.raises(ValidationError) as refused:
        promise(case, clerk, document="hukou_book")
    assert "document" in refused.value.message_dict
    offered = {value for value, _label in PromiseDocumentForm(case=case).fields["document"].choices}
    assert offered == set(SecondaryDocument.values)
    assert not offered & {"hukou_book", "id_card", "identity"}


def test_the_same_document_is_promised_once(client, clerk, case):
    promise(case, clerk)
    with pytest.raises(ValidationError):
        promise(case, clerk)
    offered = [value for value, _label in PromiseDocumentForm(case=case).fields["document"].choices]
    assert ID_COPY not in offered


# The admin -----------------------------------------------------------------------------------


def test_the_clerk_accepts_a_case_with_a_document_missing_from_its_page(client, clerk, case):
    client.force_login(clerk)
    page = client.get(change_url(case)).content.decode()
    assert f'id="promise-add" href="{add_url(case)}"' in page
    response = client.post(
        add_url(case), {"document": ID_COPY, "due_on": case.service_due_on.isoformat()}, follow=True
    )
    text = html.unescape(response.content.decode())
    assert "Accepted with a document missing: copy of the ID card or hukou page" in text
    made = case.document_promises.get()
    row = re.search(rf'<tr id="document-promise-{made.pk}">(.*?)</tr>', text, re.S).group(1)
    assert case.service_due_on.isoformat() in row and "not yet" in row
    assert f'href="{print_url(made)}"' in row and f'href="{received_url(made)}"' in row


def test_a_refused_promise_is_a_message_on_the_form_not_an_error_page(client, clerk, case):
    client.force_login(clerk)
    late = case.service_due_on + datetime.timedelta(days=3)
    response = client.post(add_url(case), {"document": ID_COPY, "due_on": late.isoformat()})
    assert response.status_code == 200
    assert f"No later than the service deadline, {case.service_due_on.isoformat()}." in (
        response.content.decode()
    )
    assert not case.document_promises.exists()
    response = client.post(add_url(case), {"document": "hukou_book", "due_on": late.isoformat()})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()


def test_recording_the_document_brought_from_the_case_page(client, clerk, case):
    made = promise(case, clerk)
    client.force_login(clerk)
    response = client.post(received_url(made), {"received_on": TODAY().isoformat()}, follow=True)
    case.refresh_from_db()
    assert f"The service deadline is now {case.service_due_on.isoformat()}." in (
        html.unescape(response.content.decode())
    )
    made.refresh_from_db()
    assert made.received_on == TODAY()
    assert f'href="{received_url(made)}"' not in response.content.decode()


def test_a_day_brought_in_the_future_is_refused_on_the_form(client, clerk, case):
    made = promise(case, clerk)
    client.force_login(clerk)
    tomorrow = TODAY() + datetime.timedelta(days=1)
    response = client.post(received_url(made), {"received_on": tomorrow.isoformat()})
    assert response.status_code == 200
    assert f"Give a day from the promise ({TODAY().isoformat()}) to today." in (
        response.content.decode()
    )


# The case cannot finish without it ------------------------------------------------------------


def test_close_is_blocked_while_a_promise_is_outstanding_and_allowed_once_brought(clerk, office):
    case = reissued_case(clerk=clerk, office=office)
    made = services.case_promise_document(
        case=case, acting_user=clerk, document=ID_COPY, due_on=TODAY()
    )
    with pytest.raises(WorkflowError, match="A document promised is still missing"):
        services.case_close(case=case, acting_user=clerk)
    services.case_record_document_received(promise=made, acting_user=clerk, received_on=TODAY())
    closed = services.case_close(case=case, acting_user=clerk)
    assert closed.state == CaseState.CLOSED


def test_the_slip_reminds_the_citizen_of_the_promise_until_it_is_kept(client, clerk, case):
    made = promise(case, clerk)
    client.force_login(clerk)
    slip = reverse("admin:reissue_reissuecase_slip", args=[case.pk])
    line = (
        f"Bring copy of the ID card or hukou page by {case.service_due_on.isoformat()}, "
        "as you promised"
    )
    assert line in html.unescape(client.get(slip).content.decode())
    services.case_record_document_received(promise=made, acting_user=clerk, received_on=TODAY())
    assert "as you promised" not in client.get(slip).content.decode()


# The deadline counted again --------------------------------------------------------------------


def test_the_deadline_is_counted_again_from_the_day_it_is_brought_across_a_holiday(
    clerk, office, settings
):
    settings.SERVICE_DEADLINE_WORKING_DAYS = 4
    # Monday 6 January 2031 (an invented calendar): Wednesday 8 is a holiday.
    CalendarDay.objects.create(date=datetime.date(2031, 1, 8), kind=DayKind.HOLIDAY, name="x")
    with time_machine.travel(start_of_day(datetime.date(2031, 1, 6)) + datetime.timedelta(hours=9)):
        case = register_case(clerk=clerk, office=office, loss_date=datetime.date(2031, 1, 2))
        # Tue 7, (Wed 8), Thu 9, Fri 10, Mon 13.
        assert case.service_due_on == datetime.date(2031, 1, 13)
        made = promise(case, clerk, due_on=datetime.date(2031, 1, 10))
    with time_machine.travel(start_of_day(datetime.date(2031, 1, 9)) + datetime.timedelta(hours=9)):
        # Brought on Tuesday 7, recorded on Thursday: counted from the 7th, the holiday skipped:
        # Thu 9, Fri 10, Mon 13, Tue 14.
        services.case_record_document_received(
            promise=made, acting_user=clerk, received_on=datetime.date(2031, 1, 7)
        )
    case.refresh_from_db()
    assert case.service_due_on == datetime.date(2031, 1, 14)
    entry = AuditEntry.objects.filter(case=case, action="document_received").get()
    assert "2031-01-13" in str(entry.changes) and "2031-01-14" in str(entry.changes)


# Who may ----------------------------------------------------------------------------------------


def test_a_clerk_of_another_office_cannot_promise_or_record_by_calling_the_services(
    clerk, case, other_clerk
):
    with pytest.raises(ObjectNotFound):
        promise(case, other_clerk)
    made = promise(case, clerk)
    with pytest.raises(ObjectNotFound):
        services.case_record_document_received(
            promise=made, acting_user=other_clerk, received_on=TODAY()
        )
    made.refresh_from_db()
    assert made.received_on is None


@pytest.mark.parametrize("role", ["reviewer", "auditor"])
def test_readers_of_the_office_cannot_promise_or_record(clerk, case, role, request):
    reader = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        promise(case, reader)
    made = promise(case, clerk)
    with pytest.raises(PermissionDenied):
        services.case_record_document_received(
            promise=made, acting_user=reader, received_on=TODAY()
        )


def test_the_admin_pages_answer_by_the_users_office_and_rights(
    client, clerk, auditor, other_clerk, case
):
    made = promise(case, clerk)
    client.force_login(other_clerk)
    for url in (add_url(case), print_url(made), received_url(made)):
        assert client.get(url).status_code == 404
    client.force_login(auditor)
    assert client.get(print_url(made)).status_code == 200
    assert client.get(add_url(case)).status_code == 403
    assert client.get(received_url(made)).status_code == 403
    page = client.get(change_url(case)).content.decode()
    assert 'id="promise-add"' not in page and f'href="{received_url(made)}"' not in page


def test_a_finished_case_takes_no_promise(clerk, office):
    case = services.case_close(case=reissued_case(clerk=clerk, office=office), acting_user=clerk)
    with pytest.raises(WorkflowError):
        promise(case, clerk, due_on=TODAY())


# The printed promise --------------------------------------------------------------------------


def test_the_promise_prints_the_document_its_day_signature_lines_and_a_masked_number(
    client, clerk, office, supervisor
):
    case = register_case(
        clerk=clerk,
        office=office,
        lost_items=LostItems.SS_CARD,
        agent_acts=True,
        agent_name="李四",
        agent_id_number="11010519491231002X",
    )
    made = promise(case, clerk, document=SecondaryDocument.AGENT_ID_COPY)
    client.force_login(supervisor)  # who may reveal numbers: the print still masks them
    page = html.unescape(client.get(print_url(made)).content.decode())
    number = case.applicant.id_number
    assert f'id="promise-id-number">{number[:6]}***********{number[-1]}<' in page
    assert number not in page and "11010519491231002X" not in page
    assert (
        f"I, 李四, acting for {case.applicant.name}, promise to bring the copy of the agent's "
        f"ID card to Dongcheng by {case.service_due_on.isoformat()}."
    ) in page
    assert "cannot be finished until I bring it" in page
    signature = re.search(r'id="promise-signature">(.*?)</table>', page, re.S).group(1)
    assert "Signature" in signature and "Date" in signature
