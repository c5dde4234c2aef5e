"""The applicant's name kept on the case (ReissueCase.applicant_name) and the claim's office
(ExpenseClaim.office): what the long lists search, sort and scope by stays true."""

import re

from django.urls import reverse

from reissue import services
from reissue.models import ReissueCase
from tests.factories import ApplicantFactory, claim_with_items, register_case, reissued_case
from tests.imports.test_admin_import import confirm, upload

CASES = reverse("admin:reissue_reissuecase_changelist")
CLAIMS = reverse("admin:claims_expenseclaim_changelist")
APPLICANTS = reverse("admin:reissue_applicant_changelist")
REFERENCE = re.compile(r">([A-Z]+-[0-9]{4}-[0-9]{6})</a>")


def references(page) -> list[str]:
    return REFERENCE.findall(page.content.decode())


def test_a_corrected_name_is_what_the_case_and_claim_lists_find(client, supervisor, office):
    case = reissued_case(
        clerk=supervisor, office=office, applicant=ApplicantFactory.build(name="王小明")
    )
    claim_with_items(case=case, clerk=supervisor)
    services.applicant_update(
        applicant=case.applicant, acting_user=supervisor, data={"name": "汪小明"}
    )
    assert ReissueCase.objects.get(pk=case.pk).applicant_name == "汪小明"
    client.force_login(supervisor)
    for changelist in (CASES, CLAIMS):
        assert references(client.get(changelist, {"q": "汪小"})) == [case.reference]
        assert references(client.get(changelist, {"q": "王小"})) == []
    assert "汪小明" in client.get(CASES).content.decode()


def test_every_case_of_the_applicant_takes_the_corrected_name(clerk, supervisor, office):
    first = register_case(clerk=clerk, office=office)
    services.case_cancel(case=first, acting_user=supervisor, reason="撤回")
    second = register_case(clerk=clerk, office=office, applicant=first.applicant)
    services.applicant_update(applicant=first.applicant, acting_user=clerk, data={"name": "赵六"})
    names = ReissueCase.objects.filter(pk__in=[first.pk, second.pk]).values_list(
        "applicant_name", flat=True
    )
    assert list(names) == ["赵六", "赵六"]


def test_imported_cases_keep_their_applicants_names(client, supervisor):
    client.force_login(supervisor)
    confirm(client, upload(client, "utf8.csv"))
    pairs = ReissueCase.objects.values_list("applicant_name", "applicant__name")
    assert sorted(pairs) == [("张伟", "张伟"), ("李娜", "李娜")]


def test_the_case_list_sorts_by_the_applicants_name_both_ways(client, clerk, office):
    names = ["王五", "张三", "李四"]  # registered out of name order: neither way is by age
    cases = {
        name: register_case(clerk=clerk, office=office, applicant=ApplicantFactory.build(name=name))
        for name in names
    }
    client.force_login(clerk)
    by_name = [cases[name].reference for name in sorted(names)]
    assert references(client.get(CASES, {"o": "1"})) == by_name
    assert references(client.get(CASES, {"o": "-1"})) == by_name[::-1]


def test_an_applicant_search_finds_only_the_namesakes_of_the_users_offices(
    client, clerk, other_clerk, office, other_office, auditor
):
    mine = register_case(clerk=clerk, office=office, applicant=ApplicantFactory.build(name="王一"))
    register_case(
        clerk=other_clerk, office=other_office, applicant=ApplicantFactory.build(name="王二")
    )
    client.force_login(clerk)
    page = client.get(APPLICANTS, {"q": "王"}).content.decode()
    assert mine.applicant.name in page and "王二" not in page
    client.force_login(auditor)
    page = client.get(APPLICANTS, {"q": "王"}).content.decode()
    assert "王一" in page and "王二" in page


def test_a_claim_keeps_its_cases_office_and_lists_only_there(
    client, supervisor, other_supervisor, office, other_office
):
    claim = claim_with_items(case=reissued_case(clerk=supervisor, office=office), clerk=supervisor)
    foreign = reissued_case(clerk=other_supervisor, office=other_office)
    claim_with_items(case=foreign, clerk=other_supervisor)
    assert claim.office == office
    client.force_login(supervisor)
    assert references(client.get(CLAIMS)) == [claim.case.reference]
    filtered = client.get(CLAIMS, {"office__id__exact": office.pk})
    assert references(filtered) == [claim.case.reference]
