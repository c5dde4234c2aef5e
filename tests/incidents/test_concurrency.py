"""Two supervisors at once, on PostgreSQL: a step on an incident is taken exactly once."""

import pytest

from incidents import services
from incidents.models import Incident
from tests.factories import UserFactory
from tests.incidents.conftest import audit_of, report_incident, take_steps
from tests.reissue.test_concurrency import run_together
from workflow.services import WorkflowError

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_closing_twice_at_once_closes_once(clerk, supervisor, office, case):
    incident = take_steps(report_incident(user=clerk, cases=[case]), user=supervisor, until="close")
    second = UserFactory(role="Supervisor", offices=[office])

    def close(user, summary):
        return lambda: services.incident_close(
            incident=Incident.objects.get(pk=incident.pk), acting_user=user, closing_summary=summary
        )

    outcomes = run_together(close(supervisor, "summary A"), close(second, "summary B"))

    closed = [o for o in outcomes if isinstance(o, Incident)]
    refused = [o for o in outcomes if isinstance(o, WorkflowError)]
    assert len(closed) == 1 and len(refused) == 1, outcomes
    incident = Incident.objects.get(pk=incident.pk)
    assert incident.closing_summary == closed[0].closing_summary
    assert audit_of(incident).filter(action="close").count() == 1
