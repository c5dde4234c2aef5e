"""What the one-time notice (一次性告知单) says, and the promise (承诺书) a citizen signs.

Printed at first contact, whatever the open state: the legal basis, the time limits, the steps
ahead and every document this case still needs, worked out from the case's facts (what was
lost, an agent, an IC card conversion, what was presented, what was promised), so that nothing
else is asked for later. The documents follow the steps' own conditions (reissue.models:
hukou_book_presented, identity_proven, photo_for_ic_conversion, agent_details_complete).
"""

import datetime
from dataclasses import dataclass

from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from common.display import format_yuan
from common.id_numbers import mask_id_number

from .case_workflow import CaseState
from .models import APPLYING_FOR_THE_CARD, DocumentPromise, ReissueCase

#: Before the new card is applied for: the whole card procedure still lies ahead.
BEFORE_THE_APPLICATION = frozenset([CaseState.REPORTED_TEMPORARILY, *APPLYING_FOR_THE_CARD])
CARD_BEING_MADE = frozenset([CaseState.CARD_ORDERED, CaseState.CARD_PRODUCED])


@dataclass(frozen=True)
class RequiredDocument:
    what: str
    why: str  # what it is for, or when it is due


@dataclass(frozen=True)
class OneTimeNotice:
    case: ReissueCase
    masked_id_number: str  # never the full number, whoever prints it
    legal_basis: list[str]
    time_limits: list[str]
    procedure: list[str]
    documents: list[RequiredDocument]


def notice_for(case: ReissueCase) -> OneTimeNotice:
    """Return the content of the one-time notice of `case`."""
    promises = list(outstanding_promises(case))
    return OneTimeNotice(
        case=case,
        masked_id_number=mask_id_number(case.applicant.id_number),
        legal_basis=legal_basis(case),
        time_limits=time_limits(case, promises),
        procedure=procedure(case),
        documents=documents_required(case, promises),
    )


def outstanding_promises(case: ReissueCase):
    return case.document_promises.filter(received_on__isnull=True).order_by("due_on", "id")


def legal_basis(case: ReissueCase) -> list[str]:
    lines = []
    if case.id_card_lost:
        lines.append(
            _(
                "Resident Identity Card Law of the People's Republic of China, art. 12: the "
                "public security organ issues a reissued resident identity card within 60 days "
                "of the application (90 days in remote areas)."
            )
        )
    if case.ss_card_lost:
        lines.append(
            _(
                "The national rules on the social security card and this city's handling guide "
                "(办事指南): a lost card is reported lost, suspended, and reissued on proof of "
                "identity."
            )
        )
    lines.append(
        _(
            "Personal Information Protection Law and Civil Code art. 1038: your personal data "
            "are used only to handle this case, kept secure and not disclosed; this notice "
            "shows your ID number masked."
        )
    )
    return lines


def _day(day: datetime.date) -> str:
    return day.isoformat()


def time_limits(case: ReissueCase, promises: list[DocumentPromise]) -> list[str]:
    rules = case.rules
    lines = []
    if case.service_due_on is not None:
        lines.append(
            _(
                "The new SS card is due within %(days)s working days of the formal loss "
                "report: by %(date)s."
            )
            % {"days": rules.service_deadline_working_days, "date": _day(case.service_due_on)}
        )
    else:
        lines.append(
            _(
                "The new SS card is due within %(days)s working days, counted from the formal "
                "loss report at this office."
            )
            % {"days": rules.service_deadline_working_days}
        )
    if promises:
        lines.append(
            _(
                "A document brought later on your promise: the %(days)s working days are "
                "counted again from the day you bring it."
            )
            % {"days": rules.service_deadline_working_days}
        )
    id_card_due_on = case.id_card_due_on()
    if id_card_due_on is not None:
        lines.append(
            _(
                "The police station issues the new ID card within %(days)s days: by %(date)s. "
                "A temporary ID card is valid for three months."
            )
            % {"days": rules.id_card_issue_days, "date": _day(id_card_due_on)}
        )
    return lines


def procedure(case: ReissueCase) -> list[str]:
    """Return the steps still ahead of this case, in order."""
    rules = case.rules
    steps = []
    if case.state == CaseState.REPORTED_TEMPORARILY:
        steps.append(
            _(
                "Your SS card is suspended until %(date)s only: make the loss report formal at "
                "this office with proof of identity, or the card works again."
            )
            % {"date": _day(timezone.localtime(case.lapses_at).date())}
        )
    if case.ss_card_lost:
        steps.append(
            _("Report the loss to the card's bank too: its bank account is suspended separately.")
        )
    if case.id_card_lost and case.id_card_issued_on is None:
        steps.append(
            _(
                "Take your household registration (hukou) book to the police station of your "
                "household registration (%(station)s) to have the ID card reissued; ask there "
                "for a temporary ID card if you need one meanwhile."
            )
            % {"station": case.applicant.hukou_police_station}
        )
    if case.ss_card_lost and not case.temp_card_number and case.state in BEFORE_THE_APPLICATION:
        steps.append(
            _(
                "To see a doctor meanwhile, ask this office for a temporary card: valid "
                "%(days)s days, extendable up to %(max)s days from its issue; hand it back when "
                "you collect the new card."
            )
            % {"days": rules.temp_card_valid_days, "max": rules.temp_card_max_valid_days}
        )
    if case.state in BEFORE_THE_APPLICATION:
        steps.append(_card_application(case))
        steps.append(_fee(case))
    elif case.state in CARD_BEING_MADE:
        steps.append(_("Your new SS card is being made; we will tell you when it has arrived."))
    # A card made at the counter is handed over at once; one from the card bank is collected.
    made_by_the_bank = case.state in BEFORE_THE_APPLICATION and not rules.instant_issuance
    if made_by_the_bank or case.state in CARD_BEING_MADE | {CaseState.CARD_ARRIVED}:
        steps.append(
            _(
                "Collect the new card at this office with your ID card (an agent brings "
                "both IDs); its SS function works from then, its bank function once you "
                "activate it at the card's bank."
            )
        )
    if case.ss_card_lost:
        steps.append(
            _(
                "Medical expenses you pay from the date of loss (%(date)s) until the new SS card "
                "is issued are reimbursed once, after examination: keep the receipts."
            )
            % {"date": _day(case.loss_date)}
        )
    return steps


def _card_application(case: ReissueCase) -> str:
    identity = (
        _("the new ID card, a temporary ID card or the hukou book")
        if case.id_card_lost and case.id_card_issued_on is None
        else _("your ID card, a temporary ID card or the hukou book")
    )
    if case.rules.instant_issuance:
        return _(
            "Apply for the new SS card at this office with %(identity)s: it is made at the "
            "counter while you wait (即时制卡)."
        ) % {"identity": identity}
    return _(
        "Apply for the new SS card at this office with %(identity)s: it is ordered from the "
        "card bank and made in a batch."
    ) % {"identity": identity}


def _fee(case: ReissueCase) -> str:
    rules = case.rules
    if not rules.card_fee:
        return _("The new card costs nothing.")
    if rules.fee_waivers:
        return _("The new card costs %(fee)s (waived for: %(waivers)s).") % {
            "fee": format_yuan(rules.card_fee),
            "waivers": "、".join(rules.fee_waivers),
        }
    return _("The new card costs %(fee)s.") % {"fee": format_yuan(rules.card_fee)}


def documents_required(
    case: ReissueCase, promises: list[DocumentPromise]
) -> list[RequiredDocument]:
    """Return every document this case still needs, as the steps' conditions ask for them."""
    documents = []
    hukou_book_missing = case.id_card_lost and not case.presented_hukou_book
    if hukou_book_missing:
        documents.append(
            RequiredDocument(
                _("Household registration (hukou) book"),
                _(
                    "for the police station to reissue the ID card, then shown here; it also "
                    "proves your identity for the SS card"
                ),
            )
        )
    elif not (case.presented_id_card or case.presented_hukou_book):
        documents.append(
            RequiredDocument(
                _("Proof of identity: your ID card, a temporary ID card or the hukou book"),
                _("for the SS card"),
            )
        )
    if case.converts_ic_card and not case.presented_photo:
        documents.append(
            RequiredDocument(
                _("One-inch colour photo (like the one on the second-generation ID card)"),
                _("your old medical-insurance IC card is converted to an SS card"),
            )
        )
    if case.agent_acts:
        documents.append(
            RequiredDocument(
                _("The agent's own ID card, with the applicant's proof of identity"),
                _("at every visit of the agent, %(name)s") % {"name": case.agent_name},
            )
        )
    for promise in promises:
        documents.append(
            RequiredDocument(
                capfirst(promise.get_document_display()),
                _("promised on %(promised)s: bring it by %(date)s")
                % {
                    "promised": _day(promise.promised_on),
                    "date": _day(promise.due_on),
                },
            )
        )
    return documents


@dataclass(frozen=True)
class PromiseSheet:
    promise: DocumentPromise
    case: ReissueCase
    masked_id_number: str


def promise_sheet_for(promise: DocumentPromise) -> PromiseSheet:
    case = promise.case
    return PromiseSheet(
        promise=promise,
        case=case,
        masked_id_number=mask_id_number(case.applicant.id_number),
    )
