"""The audit trail shows recorded choices in the reader's language, not as stored values."""

import pytest
from django.utils import translation

from claims import services as claim_services
from reissue.models import AuditEntry
from tests.factories import claim_with_items, reissued_case

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
