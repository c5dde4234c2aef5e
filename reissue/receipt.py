"""What the collection receipt (领卡回执) says: who took which new card, when, for what fee.

Printed once the new card is in the citizen's hands: collected from a batch
(`collect_card`) or made at the counter (`reissue_ss_card`). The collector signs it.
"""

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext as _

from common.display import format_yuan
from common.id_numbers import mask_id_number

from .case_workflow import Collector
from .models import ReissueCase


@dataclass(frozen=True)
class CollectionReceipt:
    case: ReissueCase
    holder_name: str
    masked_id_number: str  # never the full number, whoever prints the receipt
    card_number: str
    collected_on: datetime.date
    collected_by: str  # "the applicant" / "an agent", or the counter's instant issuance
    collector_name: str
    fee: str  # ¥35.00, or ¥0.00 with the reason it was waived
    fee_waiver_reason: str
    temp_card: str  # handed back (its number), or none issued
    instant: bool


def has_receipt(case: ReissueCase) -> bool:
    """Return whether the new card has been handed over, so its receipt can be printed."""
    return bool(case.ss_card_number) and case.ss_card_issued_on is not None


def receipt_for(case: ReissueCase) -> CollectionReceipt:
    """Return the content of the collection receipt of `case` (see `has_receipt`)."""
    instant = not case.collected_by
    if instant:
        # Made at the counter: handed to whoever stood there, the applicant or their agent.
        collected_by = _("at the counter (instant issuance)")
        collector = case.agent_name if case.agent_acts else case.applicant.name
    else:
        collected_by = str(Collector(case.collected_by).label)
        collector = case.collector_name
    if not case.temp_card_number:
        temp_card = _("none was issued")
    elif case.temp_card_returned:
        temp_card = _("handed back (%(number)s)") % {"number": case.temp_card_number}
    else:
        temp_card = _("not handed back (%(number)s)") % {"number": case.temp_card_number}
    return CollectionReceipt(
        case=case,
        holder_name=case.applicant.name,
        masked_id_number=mask_id_number(case.applicant.id_number),
        card_number=case.ss_card_number,
        collected_on=case.ss_card_issued_on,
        collected_by=collected_by,
        collector_name=collector,
        fee=format_yuan(case.fee_charged if case.fee_charged is not None else 0),
        fee_waiver_reason=case.fee_waiver_reason,
        temp_card=temp_card,
        instant=instant,
    )
