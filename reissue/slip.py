"""What the citizen's acknowledgement slip says: documents received and what to bring next.

The next steps follow the bureau's process (README): the ID card is reissued by the police
station of household registration on the hukou book; the SS card is then reissued on the new
ID card, a temporary ID card or the hukou book (a one-inch colour photo when an old
medical-insurance IC card is converted; an agent brings both people's IDs); the medical
expenses of the gap are reimbursed once, after examination.
"""

import io
from dataclasses import dataclass

import segno
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from common.id_numbers import mask_id_number

from .models import CaseState, ReissueCase


@dataclass(frozen=True)
class NextStep:
    what: str
    when: str


@dataclass(frozen=True)
class Slip:
    case: ReissueCase
    masked_id_number: str  # never the full number, whoever prints the slip
    documents: list[str]
    next_steps: list[NextStep]
    qr_svg: SafeString


def slip_for(case: ReissueCase) -> Slip:
    """Return the content of the acknowledgement slip of `case`."""
    return Slip(
        case=case,
        masked_id_number=mask_id_number(case.applicant.id_number),
        documents=documents_received(case),
        next_steps=next_steps(case),
        qr_svg=reference_qr_svg(case.reference),
    )


def documents_received(case: ReissueCase) -> list[str]:
    """Return the documents the citizen showed at the counter, as the slip lists them."""
    documents = []
    if case.presented_hukou_book:
        documents.append(_("Household registration (hukou) book"))
    if case.presented_id_card:
        documents.append(_("ID card or temporary ID card"))
    if case.presented_photo:
        documents.append(_("One-inch colour photo"))
    if case.agent_acts:
        documents.append(_("ID card of the agent, %(name)s") % {"name": case.agent_name})
    return documents


def next_steps(case: ReissueCase) -> list[NextStep]:
    """Return what the citizen must bring or do next, and when, from the case's state."""
    if case.state == CaseState.CANCELLED:
        return [
            NextStep(
                _("Nothing: the case was cancelled (%(reason)s).") % {"reason": case.cancel_reason},
                "",
            )
        ]
    if case.state in (CaseState.REIMBURSED, CaseState.CLOSED):
        return [NextStep(_("Nothing more: the case is finished."), "")]
    if case.state == CaseState.SS_CARD_REISSUED:
        return _after_ss_card(case)
    return [*_before_ss_card(case), *_for_every_visit(case), *_receipts(case)]


def _before_ss_card(case: ReissueCase) -> list[NextStep]:
    steps = []
    if case.state == CaseState.REPORTED and case.ss_card_lost:
        steps.append(
            NextStep(
                _(
                    "To see a doctor before the new SS card is ready, ask at this office for a "
                    "temporary card (or the paper card-collection certificate)."
                ),
                _("when you need it"),
            )
        )
    if case.id_card_lost and case.id_card_issued_on is None:
        steps.append(
            NextStep(
                _(
                    "Take your household registration (hukou) book to the police station of your "
                    "household registration (%(station)s) to have the ID card reissued."
                )
                % {"station": case.applicant.hukou_police_station},
                _("now"),
            )
        )
        steps.append(
            NextStep(
                _(
                    "Come back to this office with the new ID card, a temporary ID card or the "
                    "hukou book to have the SS card reissued."
                ),
                _("once the police station has given you the new or a temporary ID card"),
            )
        )
    else:
        steps.append(
            NextStep(
                _(
                    "Have the SS card reissued at this office: bring your ID card, a temporary "
                    "ID card or the hukou book."
                ),
                _("at your next visit"),
            )
        )
    if case.converts_ic_card and not case.presented_photo:
        steps.append(
            NextStep(
                _(
                    "Bring a one-inch colour photo (like the one on the second-generation ID "
                    "card): your old medical-insurance IC card is converted to an SS card."
                ),
                _("with the SS card application"),
            )
        )
    return steps


def _for_every_visit(case: ReissueCase) -> list[NextStep]:
    if not case.agent_acts:
        return []
    return [
        NextStep(
            _(
                "An agent acting for you brings your ID card (or hukou book) and the agent's "
                "own ID card."
            ),
            _("at every visit"),
        )
    ]


def _receipts(case: ReissueCase) -> list[NextStep]:
    if not case.ss_card_lost:
        return []
    return [
        NextStep(
            _(
                "Keep the receipts of medical expenses you pay from the date of loss "
                "(%(date)s) until the new SS card is issued: they are reimbursed once, after "
                "examination."
            )
            % {"date": case.loss_date.isoformat()},
            _("bring them after the new SS card is issued"),
        )
    ]


def _after_ss_card(case: ReissueCase) -> list[NextStep]:
    # The claims app supplies the reverse relation; states are compared by value, as the
    # case's own `reimburse` and `close` conditions do, so `reissue` never imports `claims`.
    claim = getattr(case, "expense_claim", None)
    if claim is None and case.ss_card_lost:
        return [
            NextStep(
                _(
                    "Bring the receipts of medical expenses paid from %(start)s to %(end)s for "
                    "the one-time reimbursement, or tell us there are none so the case can be "
                    "closed."
                )
                % {
                    "start": case.loss_date.isoformat(),
                    # An imported case may lack the day; the sentence still reads.
                    "end": case.ss_card_issued_on.isoformat()
                    if case.ss_card_issued_on
                    else _("the day of the new SS card"),
                },
                _("as soon as you can"),
            )
        ]
    if claim is not None and claim.state == "draft":
        return [
            NextStep(
                _("Bring any receipts still missing from your expense claim."),
                _("before it is handed over for examination"),
            )
        ]
    if claim is not None and claim.state == "submitted":
        return [NextStep(_("Nothing: your expense claim is being examined; we will tell you."), "")]
    if claim is not None and claim.state == "approved":
        return [NextStep(_("Nothing: the approved amount will be paid to you."), "")]
    return [NextStep(_("Nothing more: the case will be closed."), "")]


def reference_qr_svg(reference: str) -> SafeString:
    """Return a QR code of the case reference as inline SVG (no style attribute: CSP)."""
    buffer = io.BytesIO()
    segno.make(reference, error="m", micro=False).save(
        buffer,
        kind="svg",
        xmldecl=False,
        svgns=True,
        nl=False,
        omitsize=True,  # sized by print.css through its viewBox
        border=4,
        svgclass="slip-qr",
        lineclass="qr-line",
        title=reference,
    )
    # segno writes only the reference (letters, digits, dashes) and fixed markup.
    return mark_safe(buffer.getvalue().decode())  # noqa: S308
