"""A citizen rating while a transaction writing both chains holds the audit chain's head, on
PostgreSQL with two connections: the rating waits and goes through, no deadlock (both take the
audit chain's head first, audit/chain.py)."""

import threading
import time

import pytest
from django.db import connection, transaction

from audit.chain import lock_chain_head
from audit.models import AuditEntry, PersonalDataAccess
from ratings import services
from ratings.models import Rating, RatingLevel
from reissue.rating_link import rating_token
from tests.factories import reissued_case
from tests.reissue.test_concurrency import _waiting_on_a_lock

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_rating_during_a_transaction_writing_both_chains_waits_and_is_recorded(clerk, office):
    case = reissued_case(clerk=clerk, office=office)
    token = rating_token(case)
    outcome = {}

    def rate():
        try:
            outcome["page"] = services.rating_submit(
                token=token, level=RatingLevel.SATISFIED, comment="", client_address="192.0.2.8"
            )
        except Exception as error:  # recorded for the test to inspect
            outcome["page"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=rate)
    # As card_batches.batch_production_file: the audit chain's head, then the access chain's.
    with transaction.atomic():
        lock_chain_head(AuditEntry.CHAIN)
        thread.start()
        deadline = time.monotonic() + 20
        while thread.is_alive() and not _waiting_on_a_lock() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert thread.is_alive(), outcome
        lock_chain_head(PersonalDataAccess.CHAIN)  # the old order deadlocked here
    thread.join(timeout=20)

    assert not isinstance(outcome["page"], Exception), outcome  # a deadlock: OperationalError
    assert outcome["page"].status is services.PageStatus.THANKS
    assert Rating.objects.filter(case=case).exists()
