"""`new_instance` makes the instance `Model(**values)` makes (the legacy import's rows)."""

import datetime

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from audit.models import AuditEntry
from common.instances import new_instance
from reissue.models import Applicant, ReissueCase

NOW = datetime.datetime(2026, 3, 2, 9, 30, tzinfo=datetime.UTC)


def as_made(instance) -> dict:
    """Everything an instance holds but its database state: the fields' values, the related
    objects cached, django-fsm's initial state."""
    held = dict(vars(instance))
    state = held.pop("_state")
    return {**held, "adding": state.adding, "db": state.db, "cached": state.fields_cache}


@pytest.fixture
def case_values(office, clerk):
    return {
        "office": office,
        "handled_by_id": clerk.pk,
        "lost_items": "both",
        "loss_kind": "stolen",
        "loss_date": datetime.date(2026, 2, 1),
        "presented_hukou_book": True,
        "agent_acts": True,
        "agent_name": "李四",
        "agent_id_number": "11010119900307803X",
    }


@time_machine.travel(NOW, tick=False)
def test_a_case_is_made_as_django_makes_it(case_values):
    made = new_instance(ReissueCase, **case_values)
    assert as_made(made) == as_made(ReissueCase(**case_values))
    assert made.office == case_values["office"] and made.reported_at == timezone.now()
    assert made.state == "reported" and made.loss_kind == "stolen"


@time_machine.travel(NOW, tick=False)
def test_a_case_with_nothing_given_has_every_default(db):
    assert as_made(new_instance(ReissueCase)) == as_made(ReissueCase())


def test_a_callable_default_is_called_for_each_instance(db):
    first, second = new_instance(ReissueCase), new_instance(ReissueCase)
    first.policy_values["id_card_issue_days"] = 60
    assert second.policy_values == {}


def test_an_applicant_and_an_audit_entry_are_made_as_django_makes_them(clerk, office):
    applicant = {"name": "王伟", "id_number": "110101199003078515", "phone": "13800000000"}
    assert as_made(new_instance(Applicant, **applicant)) == as_made(Applicant(**applicant))
    entry = {
        "office_id": office.pk,
        "content_type": ContentType.objects.get_for_model(ReissueCase),
        "object_id": 7,
        "action": "registered",
        "actor": clerk,
        "at": NOW,
        "comment": "Imported from the legacy file “old.csv”, row 2.",
    }
    assert as_made(new_instance(AuditEntry, **entry)) == as_made(AuditEntry(**entry))


def test_a_name_that_is_no_field_is_refused_as_django_refuses_it(db):
    refused = "ReissueCase\\(\\) got unexpected keyword arguments: 'lost'"
    with pytest.raises(TypeError, match=refused):
        ReissueCase(lost="both")
    with pytest.raises(TypeError, match=refused):
        new_instance(ReissueCase, lost="both", office_id=None)
