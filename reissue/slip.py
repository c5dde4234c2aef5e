"""What the citizen's acknowledgement slip says: documents received and what to bring next.

The next steps are the lines the case's state declares (case_workflow.CASE_WORKFLOW), which
follow the bureau's process (README).
"""

import io
from collections.abc import Callable
from dataclasses import dataclass

import segno
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from common.id_numbers import mask_id_number

from .case_workflow import CASE_WORKFLOW, CaseFlag
from .models import ReissueCase, holds_temp_card
from .rating_link import is_rateable, rating_url
from .temp_card_check import temp_card_token


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
    # While a temporary card is out: the code a hospital scans to check it (public pages).
    temp_card_qr_svg: SafeString | None = None
    # Once the citizen holds the new card: the code to rate the service (好差评).
    rating_qr_svg: SafeString | None = None


def slip_for(case: ReissueCase, *, absolute_url: Callable[[str], str] = str) -> Slip:
    """Return the content of the acknowledgement slip of `case`; `absolute_url` turns a path
    into the address a phone opens (the admin passes request.build_absolute_uri)."""
    return Slip(
        case=case,
        masked_id_number=mask_id_number(case.applicant.id_number),
        documents=documents_received(case),
        next_steps=next_steps(case),
        qr_svg=reference_qr_svg(case.reference),
        temp_card_qr_svg=temp_card_qr_svg(case, absolute_url),
        rating_qr_svg=rating_qr_svg(case),
    )


def rating_qr_svg(case: ReissueCase) -> SafeString | None:
    """Return the QR code of the page rating the service, once the case may be rated: the
    address the SMS carries (PUBLIC_SITE_URL), not the host the staff reached the admin at."""
    if not is_rateable(case):
        return None
    url = rating_url(case)
    return _qr_svg(url, svgclass="slip-qr rating-qr", title=_("Rate our service"))


def temp_card_check_path(case: ReissueCase) -> str:
    """Return the public page checking the temporary card `case` holds (a signed token)."""
    return reverse("public:temp_card", args=[temp_card_token(case)])


def temp_card_qr_svg(case: ReissueCase, absolute_url: Callable[[str], str]) -> SafeString | None:
    """Return the QR code of the temporary card's check page while the case holds the card."""
    if not holds_temp_card(case) or case.temp_card_issued_on is None:
        return None
    if CaseFlag.HOLDS_TEMP_CARD not in CASE_WORKFLOW.state(case.state).flags:
        return None
    url = absolute_url(temp_card_check_path(case))
    return _qr_svg(url, svgclass="slip-qr temp-card-qr", title=_("Temporary card check"))


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
        NextStep(line.text(case), line.when_text(case))
        for line in CASE_WORKFLOW.state(case.state).slip
        if line.applies(case)
    ]


def reference_qr_svg(reference: str) -> SafeString:
    """Return a QR code of the case reference as inline SVG (no style attribute: CSP)."""
    return _qr_svg(reference, svgclass="slip-qr", title=reference)


def _qr_svg(content: str, *, svgclass: str, title: str) -> SafeString:
    buffer = io.BytesIO()
    segno.make(content, error="m", micro=False).save(
        buffer,
        kind="svg",
        xmldecl=False,
        svgns=True,
        nl=False,
        omitsize=True,  # sized by print.css through its viewBox
        border=4,
        svgclass=svgclass,
        lineclass="qr-line",
        title=title,  # segno escapes it
    )
    # segno writes the escaped title and fixed markup; the content is drawn, not written.
    return mark_safe(buffer.getvalue().decode())  # noqa: S308
