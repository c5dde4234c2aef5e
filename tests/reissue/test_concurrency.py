"""Two clerks at the same moment, on PostgreSQL with two real connections (threads)."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditEntry
from reissue import services
from reissue.models import Applicant, ReissueCase
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


def _waiting_on_a_lock() -> int:
    """Return how many other connections to this database wait for a lock now."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # else the view is read once per txn
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def winner_then_loser(winner, loser, timeout: float = 20):
    """Let `winner` act and hold its locks; let `loser` run into them; then commit the winner.

    The order of two clerks acting at once, made certain: the loser has passed its forms'
    checks on the data as they were, and meets the winner's change only inside its service.
    Return (winner's outcome, loser's outcome); an exception is returned, not raised.
    """
    outcome = {}

    def worker():
        try:
            outcome["loser"] = loser()
        except Exception as error:  # recorded for the test to inspect
            outcome["loser"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    with transaction.atomic():
        first = winner()
        thread.start()
        deadline = time.monotonic() + timeout
        while thread.is_alive() and not _waiting_on_a_lock() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert thread.is_alive(), f"the loser did not wait for the winner: {first} {outcome}"
    thread.join(timeout=timeout)
    return first, outcome.get("loser")


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
    from audit.chain import verify_chain

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
    # Which message depends on who claimed the number or reached the applicant row first;
    # each tells the clerk why.
    message = " ".join(refusals[0].messages)
    assert any(
        text in message
        for text in ["just registered this person", "already has an open case", "at this moment"]
    )
    assert Applicant.objects.count() == 1 and ReissueCase.objects.count() == 1


def test_the_same_new_ss_card_number_on_two_cases_at_once_is_a_field_error(clerk, office):
    first, second = (
        register_case(clerk=clerk, office=office, lost_items="ss_card", presented_id_card=True)
        for _ in range(2)
    )

    def reissue(case):
        return lambda: services.case_reissue_ss_card(
            case=case, acting_user=clerk, card_number="SS-RACE-1", issued_on=timezone.localdate()
        )

    won, lost = winner_then_loser(reissue(first), reissue(second))

    assert isinstance(won, ReissueCase)
    assert isinstance(lost, ValidationError), lost  # was an IntegrityError
    assert lost.message_dict == {
        "ss_card_number": ["This SS card number was already given to another case."]
    }
    assert ReissueCase.objects.get(pk=second.pk).state == "reported"
    assert AuditEntry.objects.filter(action="reissue_ss_card").count() == 1
