"""The looks of the public pages: a citizen's at their case, a hospital's at a temporary card.

Each look is counted against its rate limits and written to the access log in one
transaction, under the access chain's lock (as the staff's ID-number search budget): the count
and the append are one step on every app server. A refused look shows nothing and is not
logged. The access log keeps the client's address and what was shown, never the ID tail typed.
"""

import datetime
import hmac
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.chain import chain_append, lock_chain_head
from audit.models import AccessKind, PersonalDataAccess
from common.encryption import current_token_prefix, decrypt, encrypt
from common.exceptions import Refusal
from common.id_numbers import normalize_id_number
from reissue.models import Applicant, ReissueCase
from reissue.slip import NextStep, next_steps
from reissue.temp_card_check import TempCardCheck, TempCardVerdict, check_temp_card

from .models import PublicLook, PublicLookKind

ID_TAIL_LENGTH = 6


class TooManyLooks(Refusal):
    """The client address (or the reference) made the most looks allowed for now."""


@dataclass(frozen=True)
class CaseProgress:
    """All a citizen sees of their case: nothing that names or numbers them."""

    state_label: str
    next_steps: list[NextStep]
    office_name: str
    office_phone: str
    office_hours: str


@dataclass(frozen=True)
class TempCardView:
    """All a hospital sees of a temporary card."""

    verdict: TempCardVerdict | None  # None: the code names no card
    issued_on: datetime.date | None
    valid_until: datetime.date | None
    masked_name: str


def mask_name(name: str) -> str:
    """Return the name with all but its first character hidden: 张三丰 -> 张**, 张三 -> 张*."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    return name[0] + "*" * (len(name) - 1)


def look_up_case_progress(
    *, reference: str, id_tail: str, client_address: str
) -> CaseProgress | None:
    """Return the progress of the case `reference` if `id_tail` ends its applicant's ID number,
    else None: the same for a reference that names no case and for a wrong tail.

    Raise TooManyLooks, logging nothing, past the limits per address and per reference.
    """
    reference = reference.strip().upper()
    with transaction.atomic():
        _count_look(
            kind=PublicLookKind.CASE_PROGRESS,
            client_address=client_address,
            reference=reference,
            limits=[
                ("client_address", settings.PUBLIC_LOOKUP_LIMIT_PER_ADDRESS),
                ("reference", settings.PUBLIC_LOOKUP_LIMIT_PER_REFERENCE),
            ],
        )
        case = (
            ReissueCase.objects.select_related("applicant", "office")
            .filter(reference=reference)
            .first()
        )
        # Decrypt a number even for an unknown reference, so both answers take as long.
        number = case.applicant.id_number if case is not None else _dummy_number()
        matches = _same_tail(number, id_tail) and case is not None
        if matches:
            reason = _("citizen look-up from %(address)s: progress shown")
        elif case is not None:
            reason = _("citizen look-up from %(address)s: the ID tail did not match, nothing shown")
        else:
            reason = _("citizen look-up from %(address)s: no case %(reference)s, nothing shown")
        _log(
            kind=AccessKind.CITIZEN_LOOKUP,
            case=case,
            field="id_number",
            reason=reason % {"address": client_address, "reference": reference},
        )
    if not matches:
        return None
    office = case.office
    return CaseProgress(
        state_label=case.get_state_display(),
        next_steps=next_steps(case),
        office_name=office.name,
        office_phone=office.phone,
        office_hours=office.opening_hours,
    )


def check_temp_card_from_public(*, token: str, client_address: str) -> TempCardView:
    """Return what a hospital may see of the temporary card of `token`, logging the look.

    Raise TooManyLooks, logging nothing, past the limit per address.
    """
    with transaction.atomic():
        _count_look(
            kind=PublicLookKind.TEMP_CARD,
            client_address=client_address,
            reference="",
            limits=[("client_address", settings.PUBLIC_TEMP_CARD_CHECK_LIMIT_PER_ADDRESS)],
        )
        check: TempCardCheck | None = check_temp_card(token)
        if check is None:
            reason = _("temporary card check from %(address)s: the code names no card")
        else:
            reason = _("temporary card check from %(address)s: %(verdict)s")
        _log(
            kind=AccessKind.TEMP_CARD_CHECK,
            case=check.case if check else None,
            field="temp_card_number",
            reason=reason
            % {"address": client_address, "verdict": check.verdict.label if check else ""},
        )
    if check is None:
        return TempCardView(verdict=None, issued_on=None, valid_until=None, masked_name="")
    return TempCardView(
        verdict=check.verdict,
        issued_on=check.issued_on,
        valid_until=check.valid_until,
        masked_name=mask_name(check.case.applicant.name),
    )


def count_public_look(
    *, kind: str, client_address: str, reference: str, limits: list[tuple[str, int]]
) -> None:
    """Count one look of `kind` against `limits` ([(field, most allowed)]); raise TooManyLooks
    past one. Call in the transaction that logs the look (log_public_look)."""
    _count_look(kind=kind, client_address=client_address, reference=reference, limits=limits)


def log_public_look(*, kind: str, case: ReissueCase | None, field: str, reason: str) -> None:
    """Write one public page's look to the access log (no staff user)."""
    _log(kind=kind, case=case, field=field, reason=reason)


def _count_look(
    *, kind: str, client_address: str, reference: str, limits: list[tuple[str, int]]
) -> None:
    # The access chain's lock serializes the looks: the count and the new row are one step.
    lock_chain_head(PersonalDataAccess.CHAIN)
    since = timezone.now() - datetime.timedelta(seconds=settings.PUBLIC_LOOK_WINDOW_SECONDS)
    key = {"client_address": client_address, "reference": reference}
    for field, limit in limits:
        made = PublicLook.objects.filter(kind=kind, at__gte=since, **{field: key[field]}).count()
        if made >= limit:
            raise TooManyLooks(
                _("Too many tries in a short time. Please try again in %(minutes)d minutes.")
                % {"minutes": max(settings.PUBLIC_LOOK_WINDOW_SECONDS // 60, 1)}
            )
    PublicLook.objects.create(kind=kind, client_address=client_address, reference=reference)


def _log(*, kind: str, case: ReissueCase | None, field: str, reason: str) -> None:
    chain_append(
        PersonalDataAccess(
            kind=kind,
            actor=None,
            content_type=ContentType.objects.get_for_model(ReissueCase) if case else None,
            object_id=case.pk if case else None,
            case=case,
            field=field,
            reason=reason,
        )
    )


def _same_tail(number: str, id_tail: str) -> bool:
    typed = normalize_id_number(id_tail).encode()
    return hmac.compare_digest(normalize_id_number(number)[-ID_TAIL_LENGTH:].encode(), typed)


@cache
def _dummy_ciphertext(key_prefix: str) -> str:
    # One per current key (keys rotate; tests override them).
    return encrypt("110105194912310021", context=_applicant_number_context())


def _applicant_number_context() -> bytes:
    return Applicant._meta.get_field("id_number").encryption_context


def _dummy_number() -> str:
    ciphertext = _dummy_ciphertext(current_token_prefix())
    return decrypt(ciphertext, context=_applicant_number_context())


def purge_public_looks(*, now: datetime.datetime | None = None) -> int:
    """Delete the looks older than the rate limits' window (they count for nothing then);
    return how many. Idempotent. The access log keeps what each look was shown."""
    before = (now or timezone.now()) - datetime.timedelta(
        seconds=settings.PUBLIC_LOOK_WINDOW_SECONDS
    )
    deleted, _by_model = PublicLook.objects.filter(at__lt=before).delete()
    return deleted
