"""Two clerks at the same moment, on PostgreSQL with two real connections (threads)."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from reissue import services
from reissue.models import Applicant, AuditEntry, ReissueCase
from tests.factories import applicant_fields, register_case

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def run_together(*actions):
    """Run the callables in threads released at the same instant; return results or errors."""
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def worker(index, action):
        try:
            barrier.wait()
            outcomes[index] = action()
        except Exception as error:  # recorded for the test to inspect
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=item) for item in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_the_same_step_twice_at_once_happens_once(clerk, supervisor, office):
    case = register_case(clerk=clerk, office=office)

    def issue(user, number):
        return lambda: services.case_issue_temp_card(
            case=ReissueCase.objects.get(pk=case.pk),
            acting_user=user,
            card_number=number,
            issued_on=timezone.localdate(),
        )

    outcomes = run_together(issue(clerk, "TMP-A001"), issue(supervisor, "TMP-B002"))

    winners = [o for o in outcomes if isinstance(o, ReissueCase)]
    losers = [o for o in outcomes if isinstance(o, services.WorkflowError)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert "this step cannot be taken" in losers[0].message
    case.refresh_from_db()
    assert case.temp_card_number == winners[0].temp_card_number
    assert AuditEntry.objects.filter(case=case, action="issue_temp_card").count() == 1


def test_two_different_steps_from_the_same_page_at_once_only_one_lands(clerk, supervisor, office):
    case = register_case(clerk=clerk, office=office)
    outcomes = run_together(
        lambda: services.case_cancel(
            case=case, acting_user=supervisor, reason="found", expected_state="reported"
        ),
        lambda: services.case_issue_temp_card(
            case=case,
            acting_user=clerk,
            card_number="TMP-C003",
            issued_on=timezone.localdate(),
            expected_state="reported",
        ),
    )
    errors = [o for o in outcomes if isinstance(o, services.WorkflowError)]
    assert len(errors) == 1 and "Someone else changed this meanwhile" in errors[0].message
    assert AuditEntry.objects.filter(case=case).exclude(action="registered").count() == 1


def test_registrations_at_once_get_distinct_references(clerk, supervisor, office):
    outcomes = run_together(
        lambda: register_case(clerk=clerk, office=office),
        lambda: register_case(clerk=supervisor, office=office),
    )
    assert all(isinstance(o, ReissueCase) for o in outcomes), outcomes
    assert len({o.reference for o in outcomes}) == 2


def test_the_same_applicant_registered_twice_at_once_gets_one_open_case(clerk, supervisor, office):
    from tests.factories import ApplicantFactory

    applicant = ApplicantFactory()
    outcomes = run_together(
        lambda: register_case(clerk=clerk, office=office, applicant=applicant),
        lambda: register_case(clerk=supervisor, office=office, applicant=applicant),
    )
    assert sum(isinstance(o, ReissueCase) for o in outcomes) == 1, outcomes
    assert ReissueCase.objects.filter(applicant=applicant).count() == 1


def test_clerks_writing_at_once_never_fork_the_audit_chain(clerk, supervisor, office):
    from reissue.chain import verify_chain

    def register_three(user):
        return lambda: [register_case(clerk=user, office=office) for _ in range(3)]

    outcomes = run_together(*(register_three(user) for user in [clerk, supervisor] * 3))

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    sequences = list(AuditEntry.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, 19))
    assert verify_chain(AuditEntry) is None


def test_two_clerks_registering_the_same_new_person_at_once_make_one_case(
    clerk, supervisor, office
):
    person = applicant_fields()

    def register(user):
        return lambda: register_case(clerk=user, office=office, applicant=Applicant(**person))

    outcomes = run_together(register(clerk), register(supervisor))

    cases = [o for o in outcomes if isinstance(o, ReissueCase)]
    refusals = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(cases) == 1 and len(refusals) == 1, outcomes
    # Which message depends on who reached the applicant row first; both tell the clerk why.
    message = " ".join(refusals[0].messages)
    assert "just registered this person" in message or "already has an open case" in message
    assert Applicant.objects.count() == 1 and ReissueCase.objects.count() == 1
