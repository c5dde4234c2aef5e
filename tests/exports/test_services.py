"""The access-log record an export with full personal numbers leaves, written by its service."""

from django.contrib.contenttypes.models import ContentType
from django.http import QueryDict

from audit.chain import verify_chain
from audit.models import AccessKind, PersonalDataAccess
from claims.models import ExpenseClaim
from exports.services import export_with_full_numbers_record
from tests.factories import valid_id_number


def test_an_export_with_full_numbers_is_one_chained_record_of_who_what_and_how(supervisor):
    record = export_with_full_numbers_record(
        acting_user=supervisor,
        model=ExpenseClaim,
        count=12,
        file_format="XLSX",
        filters=QueryDict("state__exact=approved&o=2"),
    )
    assert PersonalDataAccess.objects.get() == record
    assert (record.kind, record.actor, record.actor_name) == (
        AccessKind.EXPORT,
        supervisor,
        supervisor.username,
    )
    assert record.content_type == ContentType.objects.get_for_model(ExpenseClaim)
    assert (record.object_id, record.case, record.field) == (0, None, "export")
    assert record.reason == "export of 12 expense claims (XLSX, o=2; state__exact=approved)"
    assert verify_chain(PersonalDataAccess) is None


def test_an_id_number_in_the_exported_lists_filters_is_recorded_masked(supervisor):
    number = valid_id_number(7)
    record = export_with_full_numbers_record(
        acting_user=supervisor,
        model=ExpenseClaim,
        count=1,
        file_format="CSV",
        filters=QueryDict(f"q={number}"),
    )
    assert number not in record.reason
    assert f"q={number[:6]}{'*' * 11}{number[-1]}" in record.reason


def test_an_export_of_an_unfiltered_list_says_so(supervisor):
    record = export_with_full_numbers_record(
        acting_user=supervisor, model=ExpenseClaim, count=0, file_format="JSON", filters=QueryDict()
    )
    assert record.reason.endswith("(JSON, no filters)")
