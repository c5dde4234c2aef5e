"""The main screens pass axe-core with no serious or critical violation, in both languages.

The State's ageing-friendly web rules ask for full keyboard operation and colour never the
only signal; axe checks contrast, names, labels, landmarks and the page's language.
"""

import pytest
from django.urls import reverse
from django.utils import timezone

from claims import services as claim_services
from reissue import services
from reissue.models import ImportState, ImportUpload
from tests.e2e.axe import describe, require_axe, serious_violations
from tests.factories import PolicyFactory, claim_with_items, register_case, reissued_case

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def check_screens(counter, screens: dict[str, str]) -> dict[str, str]:
    """Open each screen and return what axe found on those that fail, by screen."""
    found = {}
    for screen, url in screens.items():
        response = counter.page.goto(url)
        assert response.ok, f"{screen}: {url} answered {response.status}"
        violations = serious_violations(counter.page)
        if violations:
            found[screen] = describe(violations)
    return found


def report(found: dict[str, str]) -> str:
    return "\n".join(f"== {screen}\n{text}" for screen, text in found.items())


def progress_url(upload) -> str:
    return reverse("admin:reissue_reissuecase_import_progress", args=[upload.name])


def case_url(name: str, case, *args) -> str:
    return reverse(f"admin:reissue_reissuecase_{name}", args=[case.pk, *args])


def claim_url(name: str, claim, *args) -> str:
    return reverse(f"admin:claims_expenseclaim_{name}", args=[claim.pk, *args])


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_clerks_screens_have_no_serious_accessibility_violation(
    open_counter, office, clerk, language
):
    require_axe()
    PolicyFactory(office=office)
    reported = register_case(clerk=clerk, office=office)
    temp_issued = services.case_issue_temp_card(
        case=register_case(clerk=clerk, office=office),
        acting_user=clerk,
        card_number="TC-1",
        issued_on=timezone.localdate(),
    )
    reissued = reissued_case(clerk=clerk, office=office)
    claim = claim_with_items(case=reissued, clerk=clerk, amounts=("200.00", "80.50"))

    desk = open_counter(language, "clerk")
    desk.page.goto(reverse("admin:login"))
    found = check_screens(desk, {"log-in page": reverse("admin:login")})
    desk.log_in("clerk")
    found |= check_screens(
        desk,
        {
            "home": reverse("admin:index"),
            "case list": reverse("admin:reissue_reissuecase_changelist"),
            "registration": reverse("admin:reissue_reissuecase_add"),
            "case page": case_url("change", reported),
            "step: issue temporary card": case_url("step", reported, "issue_temp_card"),
            "step: record new ID card": case_url("step", temp_issued, "record_id_reissued"),
            "step: reissue SS card": case_url("step", reported, "reissue_ss_card"),
            "slip": case_url("slip", reported),
            "claim list": reverse("admin:claims_expenseclaim_changelist"),
            "claim page": claim_url("change", claim),
            "claim step: submit": claim_url("step", claim, "submit"),
        },
    )
    assert not found, report(found)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_supervisors_screens_have_no_serious_accessibility_violation(
    open_counter, office, clerk, reviewer, supervisor, language
):
    require_axe()
    from django_otp.plugins.otp_totp.models import TOTPDevice

    PolicyFactory(office=office)
    reported = register_case(clerk=clerk, office=office)
    claim = claim_with_items(
        case=reissued_case(clerk=clerk, office=office), clerk=clerk, submit=True
    )
    claim = claim_services.claim_approve(claim=claim, acting_user=reviewer)
    device = TOTPDevice.objects.create(user=supervisor, name="authenticator", confirmed=True)
    # A worker's check of a long file: one with bad rows, one to confirm (the page of one
    # still at work reloads itself, too soon for axe).
    problem = {"number": 7, "values": {}, "errors": {"office": ["No office has the code “ZZ”."]}}
    refused, confirmable = (
        ImportUpload.objects.create(
            owner=supervisor,
            content=content,
            file_name="legacy.csv",
            file_format="csv",
            state=ImportState.CHECKED,
            total_rows=3000,
            rows_checked=3000,
            problem_count=len(problems),
            problems=problems,
            sample=sample,
        )
        for content, problems, sample in [
            ("", [problem], []),
            ("eA==", [], [{"number": 2, "values": {"name": "张伟", "office": "DC"}}]),
        ]
    )

    boss = open_counter(language, "supervisor")
    boss.page.goto("/admin/login/?next=/admin/")
    boss.field("username").fill("supervisor")
    boss.field("password").fill("pw")
    boss.page.get_by_role("button", name=boss.text("Log in")).click()
    boss.page.wait_for_url(lambda url: "/two-factor/code/" in url)
    found = {}
    if violations := serious_violations(boss.page):
        found["two-factor code page"] = describe(violations)
    boss.give_code(device.bin_key)
    boss.page.wait_for_url(lambda url: "/two-factor/" not in url)
    found |= check_screens(
        boss,
        {
            "home": reverse("admin:index"),
            "step: cancel": case_url("step", reported, "cancel"),
            "dashboard": reverse("admin:reports_supervisordashboard_changelist"),
            "import": reverse("admin:reissue_reissuecase_import"),
            "import by a worker: bad rows": progress_url(refused),
            "import by a worker: to confirm": progress_url(confirmable),
            "export": reverse("admin:reissue_reissuecase_export"),
            "decision notice": claim_url("notice", claim),
            "claim page (approved)": claim_url("change", claim),
        },
    )
    assert not found, report(found)
