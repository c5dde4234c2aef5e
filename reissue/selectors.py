"""Reads: the querysets behind the case screens, already scoped to the user's offices."""

from django.db.models import QuerySet

from audit.models import AuditEntry, PersonalDataAccess
from common.id_numbers import id_number_digest
from notifications.models import OutboxMessage
from offices.models import Office

from .case_workflow import CASE_WORKFLOW
from .models import CaseSequence, ReissueCase
from .permissions import scope_access_log, scope_audit_entries, scope_cases


def cases_visible_to(*, user) -> QuerySet[ReissueCase]:
    """Return the cases `user` may see, with what a list row shows joined in."""
    return scope_cases(
        ReissueCase.objects.select_related("applicant", "office", "handled_by"), user
    )


def applicant_ids_named(*, user, name_start: str) -> QuerySet[ReissueCase]:
    """Return the ids of the applicants of cases `user` may see whose name starts so."""
    cases = scope_cases(ReissueCase.objects.filter(applicant_name__startswith=name_start), user)
    return cases.order_by().values("applicant_id")


def applicant_ids_by_name(
    *, office_id: int, descending: bool, start: int, stop: int | None
) -> list[int]:
    """Return the ids of the applicants with a case in one office, sorted by name (then the
    newest applicant first, as the admin's list breaks ties), rows `start:stop` of that order.

    Read from the office's cases, which keep their applicant's name (case_office_name_idx):
    the applicants' own name index holds every office's applicants, and walking it a small
    office met one of its own in 50 (bench/lists.py).
    """
    name = "-applicant_name" if descending else "applicant_name"
    pairs = (
        ReissueCase.objects.filter(office_id=office_id)
        .order_by(name, "-applicant_id")
        .values_list("applicant_name", "applicant_id")
        .distinct()
    )
    return [applicant_id for _name, applicant_id in pairs[start:stop]]


def case_references_numbered(
    *, offices: QuerySet[Office], number: int, office_code: str = "", year: int | None = None
) -> list[str]:
    """Return the references that case `number` of any year (or `year`) of `offices` has.

    Read from the offices' reference sequences, not the cases: a handful of (office, year)
    rows give the exact references, which the unique index then finds.
    """
    sequences = CaseSequence.objects.filter(office__in=offices, last_number__gte=number)
    if office_code:
        sequences = sequences.filter(office__code=office_code.upper())
    if year is not None:
        sequences = sequences.filter(year=year)
    return [
        f"{code}-{year}-{number:06d}"
        for code, year in sequences.values_list("office__code", "year").order_by("-year", "office")
    ]


def open_case_visible_to(*, id_number: str, user) -> ReissueCase | None:
    """Return the open case of the applicant with this ID number, if `user` may see it."""
    return (
        scope_cases(ReissueCase.objects.filter(state__in=CASE_WORKFLOW.open_states), user)
        .filter(applicant__id_number_hash=id_number_digest(id_number))
        .first()
    )


def case_audit_trail(*, case: ReissueCase) -> QuerySet[AuditEntry]:
    """Return the case's audit entries in time order, with who made each."""
    return case.audit_entries.select_related("actor", "content_type").order_by("at", "id")


def audit_entries_visible_to(*, user) -> QuerySet[AuditEntry]:
    """Return the audit entries `user` may read."""
    return scope_audit_entries(
        AuditEntry.objects.select_related("case", "actor", "content_type"), user
    )


def access_log_visible_to(*, user) -> QuerySet[PersonalDataAccess]:
    """Return the record of looks at full ID numbers: all of it for all-office users (auditors),
    else those of cases in the user's offices."""
    queryset = PersonalDataAccess.objects.select_related("actor", "case", "content_type")
    return scope_access_log(queryset, user)


def case_sms_messages(*, case: ReissueCase) -> list[OutboxMessage]:
    """The SMS notices about the case, its claim and its promises (all carry its reference)."""
    return list(
        OutboxMessage.objects.filter(subject_label=case.reference).order_by("created_at", "id")
    )
