"""What the citizen's acknowledgement slip says: documents received and what to bring next.

The next steps are the lines the case's state declares (case_workflow.CASE_WORKFLOW), which
follow the bureau's process (README).
"""

import io
from dataclasses import dataclass

import segno
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from common.id_numbers import mask_id_number

from .case_workflow import CASE_WORKFLOW
from .models import ReissueCase


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
    """Return what the citizen must bring or do next, and when: the lines its state declares
    (case_workflow) that apply to this case."""
    return [
        NextStep(line.text(case), str(line.when))
        for line in CASE_WORKFLOW.state(case.state).slip
        if line.applies(case)
    ]


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
