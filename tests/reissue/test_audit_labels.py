"""The audit trail's and the access log's lists read in the reader's language, not as codes."""

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import PersonalDataAccess
from exports.services import export_with_full_numbers_record
from reissue import services
from reissue.admin import PersonalDataAccessResource
from reissue.models import ReissueCase
from tests.exports.conftest import export, read_rows
from tests.factories import register_case

AUDIT_LIST = reverse("admin:audit_auditentry_changelist")
ACCESS_LIST = reverse("admin:audit_personaldataaccess_changelist")
CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}


@pytest.fixture
def case(clerk, office):
    case = register_case(clerk=clerk, office=office)
    return services.case_issue_temp_card(
        case=case, acting_user=clerk, card_number="TMP-1", issued_on=timezone.localdate()
    )


def cells(page: str, column: str) -> list[str]:
    marker = f'<td class="field-{column}">'
    return [part.split("</td>", 1)[0] for part in page.split(marker)[1:]]


def test_the_audit_list_shows_actions_and_states_by_their_labels(client, auditor, case):
    client.force_login(auditor)
    page = client.get(AUDIT_LIST, **CHINESE).content.decode()
    assert set(cells(page, "action_label")) == {"登记", "发放临时卡"}
    assert "已发临时卡" in cells(page, "target_state_label")
    assert ">issue_temp_card<" not in page and ">temp_card_issued<" not in page


def test_the_audit_lists_filters_offer_labels_without_reading_the_trail(client, auditor, case):
    client.force_login(auditor)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(AUDIT_LIST, **CHINESE).content.decode()
    assert not any("DISTINCT" in query["sql"].upper() for query in queries.captured_queries)
    assert '?action=issue_temp_card">发放临时卡</a>' in page
    assert ">已发临时卡</a>" in page  # the "to state" filter
    filtered = client.get(AUDIT_LIST, {"action": "issue_temp_card"}).content.decode()
    assert cells(filtered, "action_label") == ["Issue temporary card"]
    by_state = client.get(AUDIT_LIST, {"target_state": "reported"}).content.decode()
    assert cells(by_state, "action_label") == ["registered"]


def test_the_access_log_names_the_field_by_its_label_and_an_export_by_its_list(
    client, supervisor, auditor, case
):
    services.personal_data_reveal(
        case=case,
        number=services.RevealedNumber.APPLICANT_ID_NUMBER,
        acting_user=supervisor,
        reason="x",
    )
    export_with_full_numbers_record(
        acting_user=supervisor, model=ReissueCase, count=3, file_format="CSV", filters=QueryDict()
    )
    client.force_login(auditor)
    page = client.get(ACCESS_LIST, **CHINESE).content.decode()
    assert cells(page, "field_label") == ["身份证号码和电话号码", "居民身份证号码"]
    assert cells(page, "record")[0] == "导出补办案件列表"
    assert "#0" not in page and ">id_number<" not in page
    assert ">居民身份证号码</a>" in page  # the field filter, by label


def test_the_access_log_export_names_fields_and_records_as_the_list_does(
    client, supervisor, auditor, case
):
    services.personal_data_reveal(
        case=case,
        number=services.RevealedNumber.AGENT_ID_NUMBER,
        acting_user=supervisor,
        reason="x",
    )
    client.force_login(auditor)
    response = export(client, "audit_personaldataaccess", PersonalDataAccessResource, "xlsx")
    [row] = read_rows(response)
    assert (row["field"], row["record"]) == ("agent's ID number", case.reference)
    assert PersonalDataAccess.objects.get().field == "agent_id_number"  # stored as it was


def test_the_audit_lists_queries_do_not_grow_with_its_entries(client, auditor, clerk, case):
    client.force_login(auditor)
    client.get(AUDIT_LIST)  # content types cached
    with CaptureQueriesContext(connection) as few:
        client.get(AUDIT_LIST)
    for _ in range(3):
        register_case(clerk=clerk, office=case.office)
    with CaptureQueriesContext(connection) as more:
        client.get(AUDIT_LIST)
    assert len(more) == len(few)


def test_an_entrys_own_page_reads_as_its_row(client, auditor, case):
    entry = case.audit_entries.get(action="issue_temp_card")
    client.force_login(auditor)
    url = reverse("admin:audit_auditentry_change", args=[entry.pk])
    page = client.get(url, **CHINESE).content.decode()
    assert "发放临时卡" in page and "已发临时卡" in page
    assert ">issue_temp_card<" not in page and "TMP-1" in page
