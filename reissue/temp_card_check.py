"""The temporary card's QR code: a signed token that a hospital's phone opens on the public
check page (public/), and the verdict that page shows.

The token binds the case, the card's number and its issue date, signed with a salt of its own
(django.core.signing, SECRET_KEY): nobody makes one for another case by counting, and a card
issued again under another number no longer checks. The verdict is read from the case as it
is at each look, never from a copy: valid only while the case's state holds a temporary card
(case_workflow.CaseFlag.HOLDS_TEMP_CARD) and the card was not handed back; so it is revoked at
once when the loss report is lifted, the case cancelled or the new card collected.
"""

import datetime
import enum
from dataclasses import dataclass

from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .case_workflow import CASE_WORKFLOW, CaseFlag
from .models import ReissueCase

TOKEN_SALT = "reissue.temp-card-check"


class TempCardVerdict(enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"

    @property
    def label(self) -> str:
        return str(VERDICT_LABELS[self])


VERDICT_LABELS = {
    TempCardVerdict.VALID: _("Valid"),
    TempCardVerdict.EXPIRED: _("Expired"),
    TempCardVerdict.REVOKED: _("Revoked"),
}


@dataclass(frozen=True)
class TempCardCheck:
    case: ReissueCase
    verdict: TempCardVerdict
    issued_on: datetime.date
    valid_until: datetime.date | None


def temp_card_token(case: ReissueCase) -> str:
    """Return the signed token of the temporary card `case` holds (it must hold one)."""
    if not case.temp_card_number or case.temp_card_issued_on is None:
        raise ValueError("the case holds no temporary card")
    return signing.dumps(
        [case.pk, case.temp_card_number, case.temp_card_issued_on.isoformat()],
        salt=TOKEN_SALT,
        compress=False,
    )


def read_temp_card_token(token: str) -> tuple[int, str, datetime.date] | None:
    """Return (case pk, card number, issue date) of an authentic token, else None."""
    try:
        case_pk, number, issued_on = signing.loads(token, salt=TOKEN_SALT)
        if not isinstance(case_pk, int) or not isinstance(number, str):
            return None
        return case_pk, number, datetime.date.fromisoformat(issued_on)
    except (signing.BadSignature, ValueError, TypeError):
        return None


def check_temp_card(token: str) -> TempCardCheck | None:
    """Return what the card of `token` is worth today, or None for a token that names no card
    (forged, damaged, or of a case since deleted)."""
    read = read_temp_card_token(token)
    if read is None:
        return None
    case_pk, number, issued_on = read
    case = ReissueCase.objects.select_related("applicant").filter(pk=case_pk).first()
    if case is None:
        return None
    return TempCardCheck(
        case=case,
        verdict=temp_card_verdict(case, number=number, issued_on=issued_on),
        issued_on=issued_on,
        valid_until=case.temp_card_valid_until if case.temp_card_number == number else None,
    )


def temp_card_verdict(
    case: ReissueCase, *, number: str, issued_on: datetime.date
) -> TempCardVerdict:
    """Return the verdict on the card `number` issued on `issued_on` for `case`, as it is now."""
    if (
        case.temp_card_number != number
        or case.temp_card_issued_on != issued_on
        or case.temp_card_returned
        or CaseFlag.HOLDS_TEMP_CARD not in CASE_WORKFLOW.state(case.state).flags
    ):
        return TempCardVerdict.REVOKED
    if case.temp_card_expired_at is not None or (
        case.temp_card_valid_until is not None and case.temp_card_valid_until < timezone.localdate()
    ):
        return TempCardVerdict.EXPIRED
    return TempCardVerdict.VALID
