"""The audit trail shows recorded choices in the reader's language, not as stored values."""

import json

import pytest
from django.utils import translation

from audit.models import AuditEntry, plain_data_display, recorded_data
from claims import services as claim_services
from tests.factories import PolicyFactory, claim_with_items, reissued_case

pytestmark = pytest.mark.django_db


def test_a_changed_receipt_category_reads_as_its_label(clerk, office):
    claim = claim_with_items(case=reissued_case(clerk=clerk, office=office), clerk=clerk)
    item = claim.items.get()
    claim_services.claim_change_item(item=item, acting_user=clerk, data={"category": "pharmacy"})
    entry = AuditEntry.objects.filter(changes__has_key="category").latest("id")

    with translation.override("en"):
        assert entry.changes_display() == [("category", "outpatient", "pharmacy")]
    with translation.override("zh-hans"):
        [(label, old, new)] = entry.changes_display()
        assert (old, new) == ("门诊", "药店购药")


@pytest.fixture
def approved(clerk, reviewer, office):
    PolicyFactory(office=office)  # deductible 100, outpatient 70 %, cap 5000
    claim = claim_with_items(
        case=reissued_case(clerk=clerk, office=office), clerk=clerk, submit=True
    )
    return claim_services.claim_approve(claim=claim, acting_user=reviewer)


def _policy_change(entry):
    with translation.override("en"):
        return {label: new for label, _old, new in entry.changes_display()}["policy values applied"]


def test_an_approvals_policy_reads_as_a_sentence_not_a_dict(approved):
    entry = AuditEntry.objects.filter(action="approve").get()
    assert json.loads(entry.changes["policy_snapshot"][1])["deductible"] == "100.00"
    shown = _policy_change(entry)
    assert shown.startswith("DC from ") and "deductible ¥100.00" in shown
    assert "outpatient 70 %" in shown and "{" not in shown
    with translation.override("zh-hans"):
        zh = {label: new for label, _old, new in entry.changes_display()}
        assert "起付线 ¥100.00" in zh["适用的政策参数"] and "门诊 70%" in zh["适用的政策参数"]


def test_an_entry_recorded_with_pythons_repr_of_a_dict_is_shown_readably(approved):
    entry = AuditEntry.objects.filter(action="approve").get()
    old_style = {**entry.changes, "policy_snapshot": ["", str(approved.policy_snapshot)]}
    shown = _policy_change(AuditEntry(content_type=entry.content_type, changes=old_style))
    assert "deductible ¥100.00" in shown and "{" not in shown


def test_a_recorded_dict_without_its_own_display_reads_as_keys_and_values():
    assert plain_data_display(recorded_data('{"a": "1", "b": {"c": "2"}}')) == "a: 1, b: (c: 2)"
    assert recorded_data("{not data") is None and recorded_data("__import__('os')") is None
