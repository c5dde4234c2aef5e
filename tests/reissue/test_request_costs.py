"""What the counter's busiest requests read: a fixed number of queries, the columns shown.

bench/requests.py times them beside the stock admin; these pin what made them cheaper, so a
change that brings a query per row (or a column read for nothing) back fails here.
"""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from reissue.case_workflow import CaseState
from tests.factories import ApplicantFactory, register_case, valid_id_number
from tests.reissue.test_admin import CHANGELIST, change_url, step_url


def _captured(make) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = make()
    assert response.status_code in (200, 302)
    return [query["sql"] for query in queries.captured_queries]


def _rows_query(sql: list[str]) -> str:
    # The name the case keeps (ReissueCase.applicant_name) is read with the page's rows.
    return next(
        q for q in sql if '"reissue_reissuecase"."applicant_name"' in q and "COUNT" not in q
    )


def test_the_case_list_reads_a_fixed_number_of_queries_however_many_rows(client, clerk, office):
    for _ in range(12):
        register_case(clerk=clerk, office=office)
    client.force_login(clerk)
    client.get(CHANGELIST)
    sql = _captured(lambda: client.get(CHANGELIST))
    # The session, the user, their permissions and groups in one query (common.auth_backends:
    # also whether they must use two-factor log-in), the ids of their offices (once, for seeing
    # and for acting), the capped count, the page's case ids in the list's order, then those
    # rows with their applicant, office and clerk. Nothing per row, and not the office
    # filter's offices: a clerk of one office has no choice there (the filter is not shown).
    assert len(sql) == 7, "\n".join(sql)
    assert "JOIN" not in sql[-2] and "ORDER BY" in sql[-2]  # the ids: on the cases alone


def test_the_office_filter_offers_the_offices_of_a_user_of_several(
    client, clerk, office, other_office
):
    register_case(clerk=clerk, office=office)
    client.force_login(clerk)
    alone = client.get(CHANGELIST).content.decode()
    assert f"office__id__exact={office.pk}" not in alone  # one office: no choice, no filter
    other_office.staff.add(clerk)
    both = client.get(CHANGELIST).content.decode()
    for each in (office, other_office):
        assert f"office__id__exact={each.pk}" in both and str(each) in both


def test_the_case_list_reads_only_the_columns_its_rows_show(client, clerk, office):
    case = register_case(
        clerk=clerk,
        office=office,
        agent_acts=True,
        agent_name="王五",
        agent_id_number=valid_id_number(77),
    )
    client.force_login(clerk)
    page = client.get(CHANGELIST).content.decode()
    rows = _rows_query(_captured(lambda: client.get(CHANGELIST)))
    # Not the case's other columns (the agent's encrypted ID number among them), nor the
    # applicant's encrypted phone: each would be read and decrypted for all 100 rows. Nor the
    # clerk's password hash and e-mail, nor the office's phone: the rows show names.
    for column in (
        "agent_id_number",
        "agent_name",
        "fee_charged",
        '"reissue_applicant"."phone"',
        '"auth_user"."password"',
        '"auth_user"."email"',
        '"offices_office"."phone"',
    ):
        assert column not in rows
    assert case.reference in page
    assert case.applicant.name in page
    assert f"{office.code} {office.name}" in page and f">{clerk.username}<" in page
    assert case.applicant.id_number not in page  # masked, as before
    assert f'href="{change_url(case)}"' in page


def test_a_searched_list_links_each_row_back_to_the_search(client, clerk, office):
    cases = [register_case(clerk=clerk, office=office) for _ in range(3)]
    client.force_login(clerk)
    page = client.get(CHANGELIST, {"q": office.code + "-"}).content.decode()
    links = re.findall(r'<th class="field-reference"><a href="([^"]+)"', page)
    assert sorted(links) == sorted(
        f"{change_url(case)}?_changelist_filters=q%3D{office.code}-" for case in cases
    )


def test_a_row_link_leads_to_its_case_when_the_search_holds_the_placeholder(client, clerk, office):
    case = register_case(clerk=clerk, office=office, applicant=ApplicantFactory.build(name="0pk0"))
    client.force_login(clerk)
    page = client.get(CHANGELIST, {"q": "0pk0"}).content.decode()
    links = re.findall(r'<th class="field-reference"><a href="([^"]+)"', page)
    assert links == [f"{change_url(case)}?_changelist_filters=q%3D0pk0"]


def test_the_case_list_shows_each_state_in_the_readers_language(client, clerk, office):
    register_case(clerk=clerk, office=office)
    client.force_login(clerk)
    english = client.get(CHANGELIST).content.decode()
    with translation.override("zh-hans"):
        chinese = client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-state="reported">reported</span>' in english
    with translation.override("zh-hans"):
        label = str(CaseState.REPORTED.label)
    assert label != "reported"
    assert f'data-state="reported">{label}</span>' in chinese


def test_a_step_taken_reads_and_writes_a_fixed_number_of_queries(client, clerk, office):
    case = register_case(clerk=clerk, office=office)
    client.force_login(clerk)
    client.get(step_url(case, "issue_temp_card"))
    data = {
        "card_number": "TMP-2001",
        "issued_on": timezone.localdate().isoformat(),
        "expected_state": "reported",
    }
    sql = _captured(lambda: client.post(step_url(case, "issue_temp_card"), data))
    case.refresh_from_db()
    assert case.state == "temp_card_issued"
    # The session, the user, their permissions and groups (one query: common.auth_backends), the
    # case as the page showed it, the offices worked in (once); then in the transaction: the
    # case locked (with its applicant and office, for the SMS), the dashboard's figures of the
    # case before its save, the save and the one upsert of its change (reports.daily: the
    # figures after come from the case saved, not read back), the audit chain's head, the
    # entry, the head again, the SMS notice; after the commit, its send task. On PostgreSQL
    # the chain's head is locked once more, before the upsert (one lock order with the
    # import). Savepoints and the transaction's own statements are counted apart.
    statements = [q for q in sql if not re.match(r"(SAVEPOINT|RELEASE|BEGIN|COMMIT)", q)]
    expected = 14 if connection.vendor == "postgresql" else 13
    assert len(statements) == expected, "\n".join(statements)
    # Two savepoints in the step's transaction (here itself a savepoint, inside the test's):
    # the save (a constraint broken meanwhile becomes the form's error) and the SMS notice (a
    # duplicate leaves the step standing). The audit entry has none of its own.
    assert len([q for q in sql if q.startswith("SAVEPOINT")]) == 1 + 2
    # The applicant and the office came with the locked case: neither is read by itself.
    by_id = re.compile(r'SELECT .* WHERE "(reissue_applicant|offices_office)"."id" = ')
    assert not [q for q in sql if by_id.match(q)]


def test_the_case_page_reads_its_audit_trail_once(client, clerk, office):
    # The trail the page lists and the path its diagram draws come from one read.
    case = register_case(clerk=clerk, office=office)
    client.force_login(clerk)
    sql = _captured(lambda: client.get(change_url(case)))
    assert len([q for q in sql if re.match(r'SELECT .* FROM "audit_auditentry"', q)]) == 1


def test_a_page_read_in_two_steps_keeps_the_lists_order_and_page(
    client, clerk, office, monkeypatch
):
    from reissue.admin import ReissueCaseAdmin

    monkeypatch.setattr(ReissueCaseAdmin, "list_per_page", 3)
    cases = [register_case(clerk=clerk, office=office) for _ in range(7)]
    client.force_login(clerk)
    by_reference = sorted(case.reference for case in cases)

    def shown(**query):
        page = client.get(CHANGELIST, query).content.decode()
        return re.findall(r'<th class="field-reference"><a href="[^"]+">([^<]+)</a>', page)

    assert shown(o="0") == by_reference[:3]
    assert shown(o="0", p="2") == by_reference[3:6]
    assert shown(o="-0", p="3") == by_reference[:1]
    newest_first = [c.reference for c in sorted(cases, key=lambda c: (c.reported_at, c.pk))]
    assert shown() == newest_first[::-1][:3]
