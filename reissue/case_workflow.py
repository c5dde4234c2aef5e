"""The case workflow, declared once: what each state and step of a case means.

The transitions on `models.ReissueCase` say which steps lead where, with which permission and
label; this says the rest: per state, whether it is finished, whose turn it is, its badge,
what the citizen's slip says and what the domain reads from it; per step, its form, service,
roles and the fields it sets and locks. The model imports this module (its constraints and its
`cancel` step need the open states), so forms and services are named by their dotted paths.

The slip's next steps follow the bureau's process (README): the ID card is reissued by the
police station of household registration on the hukou book; the SS card is then reissued on
the new ID card, a temporary ID card or the hukou book (a one-inch colour photo when an old
medical-insurance IC card is converted; an agent brings both people's IDs); the medical
expenses of the gap are reimbursed once, after examination.
"""

import enum

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from offices.roles import CLERK, SUPERVISOR, SYSTEM
from workflow.declaration import Badge, Party, SlipLine, StateMeaning, StepMeaning, Turn, Workflow

from .reimbursement import SETTLED, ClaimStage, cases_whose_claim_is, claim_stage


class CaseState(models.TextChoices):
    REPORTED_TEMPORARILY = "reported_temporarily", _("temporary loss report")
    REPORTED = "reported", _("reported")
    TEMP_CARD_ISSUED = "temp_card_issued", _("temporary card issued")
    ID_REISSUED = "id_reissued", _("ID card reissued")
    CARD_ORDERED = "card_ordered", _("new card ordered")
    CARD_PRODUCED = "card_produced", _("new card produced")
    CARD_ARRIVED = "card_arrived", _("new card at the office")
    SS_CARD_REISSUED = "ss_card_reissued", _("SS card reissued")
    REIMBURSED = "reimbursed", _("reimbursed")
    CLOSED = "closed", _("closed")
    CANCELLED = "cancelled", _("cancelled")
    LIFTED = "lifted", _("loss report lifted")
    LAPSED = "lapsed", _("temporary loss report lapsed")


class LossReportKind(models.TextChoices):
    # A temporary report (phone, online, bank) lapses by itself; a formal one, at the
    # counter with proof of identity, leads to the old card's cancellation.
    TEMPORARY = "temporary", _("temporary (临时挂失)")
    FORMAL = "formal", _("formal (正式挂失)")


class ReportChannel(models.TextChoices):
    COUNTER = "counter", _("at the counter")
    HOTLINE = "hotline", _("by phone (12333)")
    ONLINE = "online", _("online")
    BANK = "bank", _("at a bank")


class Collector(models.TextChoices):
    APPLICANT = "applicant", _("the applicant")
    AGENT = "agent", _("an agent")


class SecondaryDocument(models.TextChoices):
    """What may be brought later on a signed promise (容缺受理); proof of identity never."""

    ID_COPY = "id_copy", _("copy of the ID card or hukou page")
    AGENT_ID_COPY = "agent_id_copy", _("copy of the agent's ID card")
    EMPLOYER_LETTER = "employer_letter", _("employer's letter confirming identity")


class LostItems(models.TextChoices):
    # What was lost decides the path: only a lost ID card has the ID-card step.
    BOTH = "both", _("ID card and SS card")
    ID_CARD = "id_card", _("ID card only")
    SS_CARD = "ss_card", _("SS card only")


class CaseFlag(enum.Enum):
    """What the domain reads from a state."""

    AWAITS_NEW_CARD = "awaits_new_card"  # the service deadline runs (reissue.deadlines)
    CARD_NUMBER_KNOWN = "card_number_known"  # the new card exists: its number is recorded
    NEW_CARD_ISSUED = "new_card_issued"  # the new SS card is in the citizen's hands
    HOLDS_TEMP_CARD = "holds_temp_card"  # a temporary card may be out: it expires, is extended


# The slip's lines -----------------------------------------------------------------------------


def _id_card_awaited(case) -> bool:
    return case.id_card_lost and case.id_card_issued_on is None


TEMP_CARD_OFFER = SlipLine(
    _(
        "To see a doctor before the new SS card is ready, ask at this office for a "
        "temporary card (or the paper card-collection certificate)."
    ),
    _("when you need it"),
    applies=lambda case: case.ss_card_lost,
)
POLICE_STATION = SlipLine(
    _(
        "Take your household registration (hukou) book to the police station of your "
        "household registration (%(station)s) to have the ID card reissued."
    ),
    _("now"),
    applies=_id_card_awaited,
    values=lambda case: {"station": case.applicant.hukou_police_station},
)
BACK_WITH_THE_ID_CARD = SlipLine(
    _(
        "Come back to this office with the new ID card, a temporary ID card or the "
        "hukou book to have the SS card reissued."
    ),
    _("once the police station has given you the new or a temporary ID card"),
    applies=_id_card_awaited,
)
SS_CARD_AT_THE_COUNTER = SlipLine(
    _(
        "Have the SS card reissued at this office: bring your ID card, a temporary "
        "ID card or the hukou book."
    ),
    _("at your next visit"),
    applies=lambda case: not _id_card_awaited(case),
)
PHOTO = SlipLine(
    _(
        "Bring a one-inch colour photo (like the one on the second-generation ID "
        "card): your old medical-insurance IC card is converted to an SS card."
    ),
    _("with the SS card application"),
    applies=lambda case: case.converts_ic_card and not case.presented_photo,
)
AGENT = SlipLine(
    _("An agent acting for you brings your ID card (or hukou book) and the agent's own ID card."),
    _("at every visit"),
    applies=lambda case: case.agent_acts,
)
KEEP_RECEIPTS = SlipLine(
    _(
        "Keep the receipts of medical expenses you pay from the date of loss "
        "(%(date)s) until the new SS card is issued: they are reimbursed once, after "
        "examination."
    ),
    _("bring them after the new SS card is issued"),
    applies=lambda case: case.ss_card_lost,
    values=lambda case: {"date": case.loss_date.isoformat()},
)


def _documents_promised(case):
    # The documents accepted as missing (容缺受理) and not brought yet.
    if case.pk is None:
        return []
    return list(case.document_promises.filter(received_on__isnull=True).order_by("due_on"))


PROMISED_DOCUMENTS = SlipLine(
    _("Bring %(documents)s, as you promised: the case cannot be finished without it."),
    _("by the day promised"),
    applies=lambda case: bool(_documents_promised(case)),
    values=lambda case: {
        "documents": "; ".join(
            _("%(document)s by %(date)s")
            % {"document": promise.get_document_display(), "date": promise.due_on.isoformat()}
            for promise in _documents_promised(case)
        )
    },
)

BEFORE_THE_SS_CARD = (
    POLICE_STATION,
    BACK_WITH_THE_ID_CARD,
    SS_CARD_AT_THE_COUNTER,
    PHOTO,
    AGENT,
    KEEP_RECEIPTS,
)


def _holds_temp_card(case) -> bool:
    return bool(case.temp_card_number) and not case.temp_card_returned


TEMP_CARD_VALIDITY = SlipLine(
    _(
        "Your temporary card is valid until %(date)s. If the new SS card is not ready by "
        "then, have it extended at this office (up to %(latest)s)."
    ),
    _("before %(date)s"),
    applies=lambda case: _holds_temp_card(case) and case.temp_card_valid_until is not None,
    values=lambda case: {
        "date": case.temp_card_valid_until.isoformat(),
        "latest": case.temp_card_latest_valid_until().isoformat(),
    },
)
FORMALIZE = SlipLine(
    _(
        "Your SS card is suspended until %(date)s only. To keep it suspended and have a new one "
        "made, come to this office with your ID card, a temporary ID card or the hukou book "
        "(or your employer's letter confirming your identity); otherwise the card works again."
    ),
    _("before %(date)s"),
    values=lambda case: {"date": timezone.localtime(case.lapses_at).date().isoformat()},
)
BANK_SIDE = SlipLine(
    _(
        "The bank account on your SS card is suspended separately: report the loss to the "
        "card's bank too (its hotline or a branch)."
    ),
    _("today"),
    applies=lambda case: case.ss_card_lost,
)
CARD_BEING_MADE = SlipLine(
    _("Nothing: your new SS card is being made; we will tell you when it has arrived."),
)
COLLECT_THE_CARD = SlipLine(
    _(
        "Collect your new SS card at this office with your ID card (an agent brings your ID "
        "card and the agent's own) and hand back the temporary card. Then activate its bank "
        "function at the card's bank."
    ),
    _("at your next visit"),
)


BRING_RECEIPTS = SlipLine(
    _(
        "Bring the receipts of medical expenses paid from %(start)s to %(end)s for "
        "the one-time reimbursement, or tell us there are none so the case can be "
        "closed."
    ),
    _("as soon as you can"),
    applies=lambda case: claim_stage(case) is ClaimStage.NONE and case.ss_card_lost,
    values=lambda case: {
        "start": case.loss_date.isoformat(),
        # An imported case may lack the day; the sentence still reads.
        "end": case.ss_card_issued_on.isoformat()
        if case.ss_card_issued_on
        else _("the day of the new SS card"),
    },
)
AFTER_THE_SS_CARD = (
    BRING_RECEIPTS,
    SlipLine(
        _("Bring any receipts still missing from your expense claim."),
        _("before it is handed over for examination"),
        applies=lambda case: claim_stage(case) is ClaimStage.BEING_PREPARED,
    ),
    SlipLine(
        _("Nothing: your expense claim is being examined; we will tell you."),
        applies=lambda case: claim_stage(case) is ClaimStage.BEING_EXAMINED,
    ),
    SlipLine(
        _("Nothing: the approved amount will be paid to you."),
        applies=lambda case: claim_stage(case) is ClaimStage.TO_BE_PAID,
    ),
    SlipLine(
        _("Nothing more: the case will be closed."),
        applies=lambda case: (
            claim_stage(case) in (ClaimStage.REJECTED, ClaimStage.PAID)
            or (claim_stage(case) is ClaimStage.NONE and not case.ss_card_lost)
        ),
    ),
)
FINISHED = (SlipLine(_("Nothing more: the case is finished.")),)


# What a card application relied on: the conditions' fields, and the date of loss that bounds
# the claim. Read-only once the card is ordered or issued.
CARD_APPLICATION = (
    "lost_items",
    "loss_date",
    "presented_hukou_book",
    "presented_id_card",
    "presented_photo",
    "converts_ic_card",
    "agent_acts",
    "agent_name",
    "agent_id_number",
)


# Whose turn: the office's step due, where the case does not wait for someone else.
def nothing_to_reimburse() -> Q:
    return cases_whose_claim_is(SETTLED)


CASE_WORKFLOW = Workflow(
    model="reissue.ReissueCase",
    service_argument="case",
    take_step="reissue.services.case_take_step",
    set_on_create=(
        "reference",
        "handled_by",
        "ss_card_suspended_at",
        "policy_values",
        "lapses_at",
        "formal_reported_at",
        "old_card_cancel_on",
        "service_due_on",
    ),
    has_slip=True,
    states=(
        StateMeaning(
            CaseState.REPORTED_TEMPORARILY,
            turn=Turn(Party.CITIZEN),  # to come with proof of identity, or the report lapses
            badge=Badge.GREY,
            slip=(FORMALIZE, BANK_SIDE, PROMISED_DOCUMENTS),
        ),
        StateMeaning(
            CaseState.REPORTED,
            turn=Turn(Party.OFFICE, "issue_temp_card"),
            badge=Badge.AMBER,
            slip=(TEMP_CARD_OFFER, BANK_SIDE, *BEFORE_THE_SS_CARD, PROMISED_DOCUMENTS),
            flags=frozenset({CaseFlag.AWAITS_NEW_CARD}),
        ),
        StateMeaning(
            CaseState.TEMP_CARD_ISSUED,
            turn=(
                Turn(Party.OFFICE, "order_card", when=Q(lost_items=LostItems.SS_CARD)),
                Turn(Party.OTHER_BODY),  # the police station reissues the lost ID card
            ),
            badge=Badge.OCHRE,
            slip=(TEMP_CARD_VALIDITY, *BEFORE_THE_SS_CARD, PROMISED_DOCUMENTS),
            flags=frozenset({CaseFlag.AWAITS_NEW_CARD, CaseFlag.HOLDS_TEMP_CARD}),
        ),
        StateMeaning(
            CaseState.ID_REISSUED,
            turn=Turn(Party.OFFICE, "order_card"),
            badge=Badge.BLUE,
            slip=(TEMP_CARD_VALIDITY, *BEFORE_THE_SS_CARD, PROMISED_DOCUMENTS),
            flags=frozenset({CaseFlag.AWAITS_NEW_CARD, CaseFlag.HOLDS_TEMP_CARD}),
        ),
        StateMeaning(
            CaseState.CARD_ORDERED,
            turn=Turn(Party.OTHER_BODY),  # the card bank makes the card
            badge=Badge.BLUE,
            slip=(CARD_BEING_MADE, TEMP_CARD_VALIDITY, KEEP_RECEIPTS, PROMISED_DOCUMENTS),
            flags=frozenset({CaseFlag.AWAITS_NEW_CARD, CaseFlag.HOLDS_TEMP_CARD}),
        ),
        StateMeaning(
            CaseState.CARD_PRODUCED,
            turn=Turn(Party.OTHER_BODY),  # ... and sends it to the office
            badge=Badge.INDIGO,
            slip=(CARD_BEING_MADE, TEMP_CARD_VALIDITY, KEEP_RECEIPTS, PROMISED_DOCUMENTS),
            flags=frozenset(
                {CaseFlag.AWAITS_NEW_CARD, CaseFlag.CARD_NUMBER_KNOWN, CaseFlag.HOLDS_TEMP_CARD}
            ),
        ),
        StateMeaning(
            CaseState.CARD_ARRIVED,
            turn=Turn(Party.CITIZEN),  # to collect it
            badge=Badge.GREEN,
            slip=(COLLECT_THE_CARD, TEMP_CARD_VALIDITY, KEEP_RECEIPTS, PROMISED_DOCUMENTS),
            flags=frozenset({CaseFlag.CARD_NUMBER_KNOWN, CaseFlag.HOLDS_TEMP_CARD}),
        ),
        StateMeaning(
            CaseState.SS_CARD_REISSUED,
            turn=(
                Turn(Party.OFFICE, "close", when=nothing_to_reimburse),
                Turn(Party.RELATED),  # the expense claim is examined and paid first
            ),
            badge=Badge.INDIGO,
            slip=(*AFTER_THE_SS_CARD, PROMISED_DOCUMENTS),
            flags=frozenset({CaseFlag.CARD_NUMBER_KNOWN, CaseFlag.NEW_CARD_ISSUED}),
        ),
        StateMeaning(
            CaseState.REIMBURSED,
            turn=Turn(Party.NOBODY),
            finished=True,
            badge=Badge.GREEN,
            slip=FINISHED,
            flags=frozenset({CaseFlag.CARD_NUMBER_KNOWN, CaseFlag.NEW_CARD_ISSUED}),
        ),
        StateMeaning(
            CaseState.CLOSED,
            turn=Turn(Party.NOBODY),
            finished=True,
            badge=Badge.SLATE,
            slip=FINISHED,
            flags=frozenset({CaseFlag.CARD_NUMBER_KNOWN, CaseFlag.NEW_CARD_ISSUED}),
        ),
        StateMeaning(
            CaseState.CANCELLED,
            turn=Turn(Party.NOBODY),
            finished=True,
            badge=Badge.RED,
            slip=(
                SlipLine(
                    _("Nothing: the case was cancelled (%(reason)s)."),
                    values=lambda case: {"reason": case.cancel_reason},
                ),
            ),
        ),
        StateMeaning(
            CaseState.LIFTED,
            turn=Turn(Party.NOBODY),
            finished=True,
            badge=Badge.GREY,
            slip=(
                SlipLine(
                    _(
                        "Nothing: the loss report was lifted and your SS card works again. If "
                        "you also reported it lost to your bank, lift it there too."
                    )
                ),
            ),
        ),
        StateMeaning(
            CaseState.LAPSED,
            turn=Turn(Party.NOBODY),
            finished=True,
            badge=Badge.GREY,
            slip=(
                SlipLine(
                    _(
                        "Nothing: the temporary loss report lapsed and your SS card works "
                        "again. If it is still lost, report the loss again."
                    )
                ),
            ),
        ),
    ),
    steps=(
        StepMeaning(
            "formalize_loss_report",
            roles=(CLERK, SUPERVISOR),
            form="reissue.forms.FormalizeLossReportForm",
            service="reissue.services.case_formalize_loss_report",
            sets=("loss_report_kind", "formal_reported_at", "old_card_cancel_on", "service_due_on"),
        ),
        StepMeaning(
            "lapse_loss_report",
            roles=(SYSTEM,),  # the clock, when the temporary report's time is up
            permission="reissue.run_case_clocks",
            form=None,
            service="reissue.clocks.case_lapse_loss_report",
            sets=("ss_card_unblocked_at", "finished_at"),
        ),
        StepMeaning(
            "issue_temp_card",
            roles=(CLERK, SUPERVISOR),
            form="reissue.forms.IssueTempCardForm",
            service="reissue.services.case_issue_temp_card",
            sets=("temp_card_number", "temp_card_issued_on", "temp_card_valid_until"),
        ),
        StepMeaning(
            "extend_temp_card",
            roles=(CLERK, SUPERVISOR),
            form="reissue.forms.ExtendTempCardForm",
            service="reissue.services.case_extend_temp_card",
            sets=("temp_card_valid_until", "temp_card_expired_at"),
        ),
        StepMeaning(
            "change_sms_choice",  # the citizen changes their mind about SMS notices
            roles=(CLERK, SUPERVISOR),
            form="reissue.forms.ChangeSmsChoiceForm",
            service="reissue.services.case_change_sms_choice",
            sets=("sms_opt_out", "sms_told_at"),
        ),
        StepMeaning(
            "record_id_reissued",
            roles=(CLERK, SUPERVISOR),
            form="reissue.forms.RecordIdReissuedForm",
            service="reissue.services.case_record_id_reissued",
            sets=("id_card_issued_on",),
            # What this step relied on: its conditions' fields.
            locks=("lost_items", "presented_hukou_book"),
        ),
        StepMeaning(
            "order_card",
            roles=(CLERK, SUPERVISOR),
            form="reissue.forms.OrderCardForm",
            service="reissue.services.case_order_card",
            sets=("card_batch", "card_ordered_on", "fee_charged", "fee_waiver_reason"),
            locks=CARD_APPLICATION,
        ),
        StepMeaning(
            "reissue_ss_card",  # instant issuance (即时制卡): made and handed over at once
            roles=(CLERK, SUPERVISOR),
            form="reissue.forms.ReissueSsCardForm",
            service="reissue.services.case_reissue_ss_card",
            sets=(
                "ss_card_number",
                "ss_card_issued_on",
                "fee_charged",
                "fee_waiver_reason",
                "temp_card_returned",
            ),
            locks=CARD_APPLICATION,
        ),
        StepMeaning(
            "record_card_produced",
            roles=(CLERK, SUPERVISOR),  # from the card bank's return file
            form="reissue.forms.RecordCardProducedForm",
            service="reissue.services.case_record_card_produced",
            sets=("ss_card_number", "card_produced_on"),
        ),
        StepMeaning(
            "record_card_arrived",
            roles=(CLERK, SUPERVISOR),
            form="reissue.forms.RecordCardArrivedForm",
            service="reissue.services.case_record_card_arrived",
            sets=("card_arrived_on",),
        ),
        StepMeaning(
            "collect_card",
            roles=(CLERK, SUPERVISOR),
            form="reissue.forms.CollectCardForm",
            service="reissue.services.case_collect_card",
            sets=(
                "ss_card_issued_on",
                "collected_by",
                "collector_name",
                "collector_id_checked",
                "temp_card_returned",
            ),
        ),
        StepMeaning(
            "reimburse",
            roles=(SUPERVISOR,),  # taken by paying the case's claim (claims.services.claim_pay)
            form=None,
            service="reissue.services.case_reimburse",
            sets=("finished_at",),
        ),
        StepMeaning(
            "close",
            roles=(CLERK, SUPERVISOR),
            form=None,
            service="reissue.services.case_close",
            sets=("finished_at",),
        ),
        StepMeaning(
            "cancel",
            roles=(SUPERVISOR,),
            form="reissue.forms.CancelCaseForm",
            service="reissue.services.case_cancel",
            sets=("cancel_reason", "finished_at"),
        ),
        StepMeaning(
            "lift_loss_report",
            roles=(CLERK, SUPERVISOR),  # the citizen brings the card found to the counter
            form="reissue.forms.LiftLossReportForm",
            service="reissue.services.case_lift_loss_report",
            sets=("lift_reason", "temp_card_returned", "ss_card_unblocked_at", "finished_at"),
        ),
        # The clocks' steps (reissue.clocks), taken by the system account on time.
        StepMeaning(
            "cancel_old_card",
            roles=(SYSTEM,),
            permission="reissue.run_case_clocks",
            form=None,
            service="reissue.clocks.case_cancel_old_card",
            sets=("old_card_cancelled_at",),
        ),
        StepMeaning(
            "expire_temp_card",
            roles=(SYSTEM,),
            permission="reissue.run_case_clocks",
            form=None,
            service="reissue.clocks.case_expire_temp_card",
            sets=("temp_card_expired_at",),
        ),
        StepMeaning(
            "flag_overdue",
            roles=(SYSTEM,),
            permission="reissue.run_case_clocks",
            form=None,
            service="reissue.clocks.case_flag_overdue",
            sets=("overdue_flagged_at",),
        ),
    ),
)
