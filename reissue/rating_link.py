"""The link a citizen rates the service by (好差评): a signed token per finished case.

Signed like the temporary card's code (django.core.signing, SECRET_KEY) with a salt of its own,
over the case's key and its reference, and stamped with the time it was made: nobody makes one
for another case by counting, and a token read after RATING_LINK_MAX_AGE_DAYS is expired. A
case may be rated once the citizen holds the new SS card (the state's NEW_CARD_ISSUED flag:
made at the counter or collected, whether or not a reimbursement follows); the SMS (notices)
and the collection receipt's QR code (slip) carry the link. The rating itself is `ratings/`.
"""

import datetime
import enum
import re
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .case_workflow import CASE_WORKFLOW, CaseFlag
from .models import ReissueCase

RATING_TOKEN_SALT = "reissue.rating-link"


class LinkStatus(enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"  # forged, damaged, of a case since deleted or not finished


@dataclass(frozen=True)
class RatingLink:
    status: LinkStatus
    case: ReissueCase | None = None


def is_rateable(case: ReissueCase) -> bool:
    """Return whether the citizen of `case` has the new card, so may rate the service."""
    return CaseFlag.NEW_CARD_ISSUED in CASE_WORKFLOW.state(case.state).flags


def rating_token(case: ReissueCase) -> str:
    """Return a signed, timestamped token naming `case` (it must be rateable)."""
    if not is_rateable(case):
        raise ValueError("the case cannot be rated yet")
    return signing.dumps([case.pk, case.reference], salt=RATING_TOKEN_SALT, compress=False)


def rating_path(case: ReissueCase) -> str:
    return reverse("ratings:rate", args=[rating_token(case)])


def rating_url(case: ReissueCase) -> str:
    """Return the address a phone opens from an SMS (PUBLIC_SITE_URL and the rating path)."""
    return settings.PUBLIC_SITE_URL.rstrip("/") + rating_path(case)


def text_shown_to_staff(text: str) -> str:
    """Return an SMS text with the token of any rating link in it masked (/public/rate/…/):
    the staff see that a link went, never one that works (they would rate their own cases)."""
    prefix = reverse("ratings:rate", args=["-"])[: -len("-/")]
    return re.sub(re.escape(prefix) + r"[^/\s]+/?", prefix + "…/", text)


def read_rating_token(token: str) -> RatingLink:
    """Return the case an authentic, unexpired token names, or why there is none."""
    max_age = datetime.timedelta(days=settings.RATING_LINK_MAX_AGE_DAYS)
    try:
        case_pk, reference = signing.loads(token, salt=RATING_TOKEN_SALT, max_age=max_age)
    except signing.SignatureExpired:
        return RatingLink(LinkStatus.EXPIRED)
    except (signing.BadSignature, ValueError, TypeError):
        return RatingLink(LinkStatus.INVALID)
    if not isinstance(case_pk, int) or not isinstance(reference, str):
        return RatingLink(LinkStatus.INVALID)
    case = (
        ReissueCase.objects.select_related("office").filter(pk=case_pk, reference=reference).first()
    )
    if case is None or not is_rateable(case):
        return RatingLink(LinkStatus.INVALID)
    return RatingLink(LinkStatus.VALID, case)
