"""Rating a finished case (the citizen, on the public page) and what the office does with it.

The citizen's look and rating are counted against the public pages' rate limit and written to
the access log in one transaction, under the audit chain's lock and then the access chain's
(public.services; the order of audit/chain.py), so two submissions of one case are one after
the other: the second finds the first and is told the case is rated (the unique constraint
stands behind it). The staff's steps check the role's
permission and the office here, whoever calls them, and each writes its audit entry.
"""

import datetime
import enum
import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.chain import lock_chain_head
from audit.models import AccessKind, AuditEntry
from audit.services import audit_record
from common.exceptions import ObjectNotFound, Refusal
from common.id_numbers import mask_id_number, mask_phone
from common.text import BIDI_CONTROLS, normalize_text, required_text
from offices.scoping import can_act_in_office, office_ids_visible_to
from public.models import PublicLookKind
from public.services import count_public_look, log_public_look
from reissue.models import ReissueCase
from reissue.notices import notify_case
from reissue.rating_link import LinkStatus, read_rating_token
from workdays.calendar import add_working_days

from .models import (
    COMMENT_MAX_LENGTH,
    POOR_LEVELS,
    AppealDecision,
    FollowUp,
    Rating,
    RatingAction,
    RatingAppeal,
    RatingLevel,
)

FOLLOW_UP_DONE_TEMPLATE = (
    "{name}，您对{office}服务的评价（业务编号{reference}）已核实整改，"
    "结果请致电{phone}了解。感谢您的监督。"
)


class PageStatus(enum.Enum):
    OPEN = "open"  # the form
    THANKS = "thanks"  # rated just now
    ALREADY_RATED = "already_rated"
    EXPIRED = "expired"
    INVALID = "invalid"


@dataclass(frozen=True)
class RatingPage:
    """All the citizen sees: the office, the case reference masked, and where the rating is."""

    status: PageStatus
    office_name: str = ""
    office_phone: str = ""
    masked_reference: str = ""


def mask_reference(reference: str) -> str:
    """Return the reference with its middle hidden: DC-2026-000026 -> DC-*******0026."""
    if len(reference) <= 7:
        return "*" * len(reference)
    return reference[:3] + "*" * (len(reference) - 7) + reference[-4:]


# An ID number or a mainland mobile number typed into a comment, digits not part of a longer run.
ID_NUMBER_IN_TEXT = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9Xx])")
MOBILE_IN_TEXT = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def mask_numbers_in_text(text: str) -> str:
    """Return `text` with the ID numbers and mobile numbers in it masked (full-width digits
    are read as digits and masked as well)."""
    text = re.sub(r"[０-９Ｘｘ]+", lambda found: unicodedata.normalize("NFKC", found[0]), text)
    text = ID_NUMBER_IN_TEXT.sub(lambda found: mask_id_number(found[0]), text)
    return MOBILE_IN_TEXT.sub(lambda found: mask_phone(found[0]), text)


def clean_comment(comment: str) -> str:
    """Return the citizen's comment without control characters, blanks tidied, ID numbers and
    mobile numbers masked (the comment and the audit chain keep no whole number); refuse it
    when longer than COMMENT_MAX_LENGTH (full-width punctuation is kept as typed)."""
    text = normalize_text(comment or "", multiline=True)
    text = "".join(
        c for c in text if c == "\n" or (c not in BIDI_CONTROLS and unicodedata.category(c) != "Cc")
    )
    text = mask_numbers_in_text(text)
    if len(text) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            {
                "comment": _("Keep the comment to %(limit)d characters (it has %(length)d).")
                % {"limit": COMMENT_MAX_LENGTH, "length": len(text)}
            }
        )
    return text


def rating_page_look(*, token: str, client_address: str, user_agent: str = "") -> RatingPage:
    """Return what the rating page of `token` shows, logging the look.

    Raise TooManyLooks (public.services), logging nothing, past the limit per address.
    """
    with transaction.atomic():
        _count(client_address)
        link = read_rating_token(token)
        page = _page(link.status, link.case, rated=_is_rated(link.case))
        _log(page, link.case, client_address, "", user_agent)
    return page


def rating_submit(
    *, token: str, level: str, comment: str, client_address: str, user_agent: str = ""
) -> RatingPage:
    """Record the citizen's rating of the case of `token`, once; a poor one opens a follow-up.

    Return the thank-you page, or the page saying why nothing was recorded (the case rated
    already, the link expired or not valid). Raise ValidationError for a level or comment that
    is not acceptable, TooManyLooks past the limit per address.
    """
    if level not in RatingLevel.values:
        raise ValidationError({"level": _("Choose one of the five levels.")})
    comment = clean_comment(comment)
    with transaction.atomic():
        # The audit chain's head before the access chain's (_count), as everywhere (audit/chain.py).
        lock_chain_head(AuditEntry.CHAIN)
        _count(client_address)
        link = read_rating_token(token)
        case = link.case
        if link.status is not LinkStatus.VALID or _is_rated(case):
            page = _page(link.status, case, rated=_is_rated(case))
            _log(page, case, client_address, "", user_agent)
            return page
        try:
            with transaction.atomic():  # a savepoint: the race's loser keeps its look logged
                rating = _record(case=case, level=level, comment=comment)
        except IntegrityError:
            page = _page(link.status, case, rated=True)
            _log(page, case, client_address, "", user_agent)
            return page
        page = _page(PageStatus.THANKS, case, rated=True)
        _log(
            page,
            case,
            client_address,
            _("rated: %(level)s") % {"level": rating.get_level_display()},
            user_agent,
        )
    return page


def _record(*, case: ReissueCase, level: str, comment: str) -> Rating:
    now = timezone.now()
    rating = Rating(case=case, office=case.office, level=level, comment=comment, rated_at=now)
    rating.full_clean(validate_unique=False)  # the constraint decides: one rating per case
    rating.save()
    audit_record(
        obj=rating,
        case=case,
        action=RatingAction.RATED,
        actor=None,
        comment=comment,
        changes={"level": ["", level]},
    )
    if level in POOR_LEVELS:
        FollowUp.objects.create(
            rating=rating, office=case.office, due_on=follow_up_due_on(rated_on=now)
        )
    return rating


def follow_up_due_on(*, rated_on: datetime.datetime) -> datetime.date:
    """Return the last day for the follow-up of a poor rating made at `rated_on`."""
    day = timezone.localtime(rated_on).date()
    return add_working_days(day, settings.RATING_FOLLOW_UP_WORKING_DAYS)


def _is_rated(case: ReissueCase | None) -> bool:
    return case is not None and Rating.objects.filter(case=case).exists()


def _page(status, case: ReissueCase | None, *, rated: bool) -> RatingPage:
    if status is LinkStatus.EXPIRED:
        status = PageStatus.EXPIRED
    elif status is LinkStatus.INVALID or case is None:
        status = PageStatus.INVALID
    elif status is LinkStatus.VALID:
        status = PageStatus.ALREADY_RATED if rated else PageStatus.OPEN
    if case is None:
        return RatingPage(status=status)
    office = case.office
    return RatingPage(
        status=status,
        office_name=office.name,
        office_phone=office.phone,
        masked_reference=mask_reference(case.reference),
    )


def _count(client_address: str) -> None:
    count_public_look(
        kind=PublicLookKind.RATING,
        client_address=client_address,
        reference="",
        limits=[("client_address", settings.RATING_LIMIT_PER_ADDRESS)],
    )


def _log(
    page: RatingPage, case: ReissueCase | None, client_address: str, what: str, user_agent: str
) -> None:
    log_public_look(
        kind=AccessKind.CITIZEN_RATING,
        case=case,
        field="rating",
        reason=_("rating page from %(address)s (%(agent)s): %(what)s")
        % {
            "address": client_address,
            "agent": shown_user_agent(user_agent),
            "what": what or str(STATUS_SHOWN[page.status]),
        },
    )


def shown_user_agent(user_agent: str) -> str:
    """Return the browser's user agent as the access log keeps it: one line, truncated."""
    text = " ".join("".join(c for c in user_agent if c.isprintable()).split())
    if len(text) > USER_AGENT_SHOWN_LENGTH:
        text = text[: USER_AGENT_SHOWN_LENGTH - 1] + "…"
    return text or "-"


USER_AGENT_SHOWN_LENGTH = 120


# What the access log says was shown, when nothing was rated.
STATUS_SHOWN = {
    PageStatus.OPEN: gettext_lazy("the form was shown"),
    PageStatus.THANKS: gettext_lazy("rated"),
    PageStatus.ALREADY_RATED: gettext_lazy("rated already, nothing recorded"),
    PageStatus.EXPIRED: gettext_lazy("the link has expired, nothing shown"),
    PageStatus.INVALID: gettext_lazy("the link names no case, nothing shown"),
}


# The office's steps -----------------------------------------------------------------------


def _require(acting_user: AbstractUser, permission: str) -> None:
    if not (acting_user.is_active and acting_user.has_perm(permission)):
        raise Refusal(_("You may not do this."))


def _acting_office(acting_user: AbstractUser, office_id: int) -> None:
    # Another office's rating looks like none at all.
    if not can_act_in_office(acting_user, office_id):
        raise ObjectNotFound


def follow_up_record_outcome(
    *, follow_up: FollowUp, acting_user: AbstractUser, outcome: str
) -> FollowUp:
    """Record what the office did about a poor rating (整改), once, and tell the citizen."""
    _require(acting_user, "ratings.record_follow_up")
    _acting_office(acting_user, follow_up.office_id)
    outcome = required_text(outcome, field="outcome", message=_("Say what was done."))
    with transaction.atomic():
        locked = (
            FollowUp.objects.select_for_update().select_related("rating__case").get(pk=follow_up.pk)
        )
        if locked.is_done:
            raise Refusal(_("The outcome of this follow-up was recorded already."))
        locked.outcome, locked.done_at, locked.done_by = outcome, timezone.now(), acting_user
        locked.full_clean()
        locked.save()
        case = locked.rating.case
        audit_record(
            obj=locked.rating,
            case=case,
            action=RatingAction.FOLLOW_UP_DONE,
            actor=acting_user,
            comment=outcome,
        )
        notify_case(case, subject=locked, event="follow_up_done", template=FOLLOW_UP_DONE_TEMPLATE)
    return locked


def rating_appeal(*, rating: Rating, acting_user: AbstractUser, reason: str) -> RatingAppeal:
    """Appeal a rating the office holds to be made in error (申诉), once per rating."""
    _require(acting_user, "ratings.appeal_rating")
    _acting_office(acting_user, rating.office_id)
    reason = required_text(reason, field="reason", message=_("Give the reason for the appeal."))
    with transaction.atomic():
        locked = Rating.objects.select_for_update().select_related("case").get(pk=rating.pk)
        if RatingAppeal.objects.filter(rating=locked).exists():
            raise Refusal(_("This rating has been appealed already."))
        appeal = RatingAppeal(
            rating=locked,
            office_id=locked.office_id,
            reason=reason,
            appealed_by=acting_user,
            appealed_at=timezone.now(),
        )
        appeal.full_clean(validate_unique=False)
        try:
            with transaction.atomic():
                appeal.save()
        except IntegrityError as error:
            raise Refusal(_("This rating has been appealed already.")) from error
        audit_record(
            obj=locked,
            case=locked.case,
            action=RatingAction.APPEALED,
            actor=acting_user,
            comment=reason,
        )
    return appeal


def rating_appeal_decide(
    *, appeal: RatingAppeal, acting_user: AbstractUser, upheld: bool, note: str
) -> RatingAppeal:
    """Decide an appeal: upheld leaves the rating out of the figures, rejected keeps it in."""
    _require(acting_user, "ratings.decide_rating_appeal")
    visible = office_ids_visible_to(acting_user)
    if visible is not None and appeal.office_id not in visible:
        raise ObjectNotFound
    note = required_text(note, field="note", message=_("Give the reason for the decision."))
    with transaction.atomic():
        locked = RatingAppeal.objects.select_for_update().get(pk=appeal.pk)
        if locked.decision != AppealDecision.PENDING:
            raise Refusal(_("This appeal has been decided already."))
        if locked.appealed_by_id == acting_user.pk:
            raise Refusal(_("Whoever appealed a rating cannot decide the appeal."))
        rating = Rating.objects.select_for_update().select_related("case").get(pk=locked.rating_id)
        locked.decision = AppealDecision.UPHELD if upheld else AppealDecision.REJECTED
        locked.decision_note, locked.decided_by = note, acting_user
        locked.decided_at = timezone.now()
        locked.full_clean()
        locked.save()
        if upheld:
            rating.excluded = True
            rating.save(update_fields=["excluded"])
        audit_record(
            obj=rating,
            case=rating.case,
            action=RatingAction.APPEAL_UPHELD if upheld else RatingAction.APPEAL_REJECTED,
            actor=acting_user,
            comment=note,
            changes={"excluded": ["False", "True"]} if upheld else None,
        )
        if upheld:
            _close_follow_up_of_left_out(rating, acting_user)
    return locked


def _close_follow_up_of_left_out(rating: Rating, acting_user: AbstractUser) -> None:
    # The rating is out of the figures: its open follow-up is closed, never overdue, and the
    # citizen is not told of an outcome (no SMS).
    follow_up = FollowUp.objects.select_for_update().filter(rating=rating, done_at=None).first()
    if follow_up is None:
        return
    follow_up.outcome = _("Closed: the rating was left out by an upheld appeal.")
    follow_up.done_at, follow_up.done_by = timezone.now(), acting_user
    follow_up.full_clean()
    follow_up.save()
    audit_record(
        obj=rating,
        case=rating.case,
        action=RatingAction.FOLLOW_UP_DONE,
        actor=acting_user,
        comment=follow_up.outcome,
    )
