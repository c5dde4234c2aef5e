"""A card ordered while the supervisor sends the batch, on PostgreSQL with two connections:
the order is either in the file sent or in the next batch, never in a sent batch's rows
without being in its file."""

import csv
import io

import pytest
from django.utils import timezone

from reissue import card_batches, services
from reissue.models import CardBatch, LostItems, ReissueCase
from tests.factories import register_case
from tests.reissue.test_card_batches import ordered_case
from tests.reissue.test_concurrency import winner_then_loser

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def references_in(content: bytes) -> set[str]:
    rows = csv.reader(io.StringIO(content.decode("utf-8"), newline=""))
    return {row[1] for row in rows if row[0] == "D"}


def test_an_order_during_the_export_goes_to_the_next_batch(clerk, supervisor, office):
    first = ordered_case(clerk, office)
    batch = first.card_batch
    late = register_case(
        clerk=clerk, office=office, lost_items=LostItems.SS_CARD, presented_id_card=True
    )

    def send():
        return card_batches.batch_production_file(batch=batch, acting_user=supervisor)

    def order():
        return services.case_order_card(
            case=ReissueCase.objects.get(pk=late.pk),
            acting_user=clerk,
            ordered_on=timezone.localdate(),
        )

    (content, _sha), ordered = winner_then_loser(send, order)
    assert isinstance(ordered, ReissueCase), ordered
    assert references_in(content) == {first.reference}
    assert ordered.card_batch != batch and ordered.card_batch.is_open
    assert CardBatch.objects.get(pk=batch.pk).cases.count() == 1


def test_an_export_during_an_order_takes_the_order_in(clerk, supervisor, office):
    first = ordered_case(clerk, office)
    batch = first.card_batch
    late = register_case(
        clerk=clerk, office=office, lost_items=LostItems.SS_CARD, presented_id_card=True
    )

    def order():
        return services.case_order_card(
            case=ReissueCase.objects.get(pk=late.pk),
            acting_user=clerk,
            ordered_on=timezone.localdate(),
        )

    def send():
        return card_batches.batch_production_file(batch=batch, acting_user=supervisor)

    ordered, sent = winner_then_loser(order, send)
    content, _sha = sent
    assert ordered.card_batch == batch
    assert references_in(content) == {first.reference, late.reference}
