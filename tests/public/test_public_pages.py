"""The public pages: a citizen's case progress and a hospital's temporary card check.

No staff log-in; Chinese unless the visitor chose English; a wrong reference and a wrong ID
tail answered alike; rate limits per address and per reference; every look in the access
log; the card's verdict read from the case at each look.
"""

import datetime
import re

import pytest
import segno
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from audit.chain import verify_chain
from audit.models import AccessKind, PersonalDataAccess
from offices.models import Office
from public.models import PublicLook
from public.services import mask_name
from reissue import services
from reissue.models import LostItems, ReissueCase
from reissue.slip import next_steps, temp_card_check_path
from reissue.temp_card_check import TOKEN_SALT, temp_card_token
from tests.counter.test_slip import dark_modules
from tests.factories import register_case

PROGRESS = reverse("public:case_progress")
TODAY = timezone.localdate
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


@pytest.fixture
def office(db):
    office, _ = Office.objects.get_or_create(code="DC", defaults={"name": "Dongcheng"})
    Office.objects.filter(pk=office.pk).update(
        name="东城社保中心", phone="010-12345678", opening_hours="周一至周五 9:00-17:00"
    )
    office.refresh_from_db()
    return office


@pytest.fixture
def case(clerk, office):
    return register_case(clerk=clerk, office=office)


@pytest.fixture
def card_case(clerk, case):
    return services.case_issue_temp_card(
        case=case, acting_user=clerk, card_number="TMP-0001", issued_on=TODAY()
    )


def look(client, reference, tail, **extra):
    return client.post(PROGRESS, {"reference": reference, "id_tail": tail}, **extra)


def page_of(response) -> str:
    return response.content.decode()


def without_csrf(response) -> bytes:
    return CSRF_INPUT.sub(b"", response.content)


def access_log(kind):
    return list(PersonalDataAccess.objects.filter(kind=kind).order_by("sequence"))


def check(client, case_or_path, **extra):
    path = case_or_path if isinstance(case_or_path, str) else temp_card_check_path(case_or_path)
    return client.get(path, **extra)


# Where is my card? ---------------------------------------------------------------------------


def test_the_form_opens_without_a_log_in_in_chinese_and_carries_a_csrf_token(db):
    response = Client().get(PROGRESS)
    page = page_of(response)
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in page and "我的卡办到哪了" in page
    assert "csrfmiddlewaretoken" in page


def test_english_when_the_visitor_chose_it(db, settings):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = page_of(client.get(PROGRESS))
    assert '<html lang="en">' in page and "Where is my card?" in page


def test_the_right_tail_shows_state_next_steps_and_office_and_nothing_else(case, office):
    number = case.applicant.id_number
    response = look(Client(), case.reference.lower(), number[-6:].lower())
    page = page_of(response)
    assert response.status_code == 200
    assert 'id="progress-state">已挂失<' in page
    assert "东城社保中心" in page and "010-12345678" in page and "周一至周五 9:00-17:00" in page
    assert 'id="progress-next-steps"' in page and "<li>" in page
    # Nothing that names or numbers the citizen, nor the case's dates.
    for secret in (case.applicant.name, number, number[-6:], case.applicant.phone):
        assert secret not in page
    assert case.reported_at.strftime("%Y-%m-%d") not in page


def test_the_state_shown_is_the_cases_label_in_chinese(card_case):
    number = card_case.applicant.id_number
    page = page_of(look(Client(), card_case.reference, number[-6:]))
    assert 'id="progress-state">已发临时卡<' in page
    # The next steps are the slip's lines of that state.
    with translation.override("zh-hans"):
        steps = next_steps(card_case)
    assert steps
    for step in steps:
        assert escape(step.what) in page and escape(step.when) in page
        assert "%(" not in step.when


def test_a_wrong_reference_and_a_wrong_tail_give_the_same_answer(case, clerk, office):
    number = case.applicant.id_number
    wrong_tail = "000000" if number[-6:] != "000000" else "111111"
    unknown = Client().post(PROGRESS, {"reference": "DC-1999-99999", "id_tail": number[-6:]})
    wrong = Client().post(PROGRESS, {"reference": case.reference, "id_tail": wrong_tail})
    assert unknown.status_code == wrong.status_code == 200
    assert without_csrf(unknown) == without_csrf(wrong)
    assert 'id="progress-not-found"' in page_of(wrong) and "没有找到" in page_of(wrong)
    assert case.reference not in page_of(wrong)


def test_every_look_is_in_the_access_log_without_the_tail_typed(case):
    number = case.applicant.id_number
    client = Client(REMOTE_ADDR="203.0.113.7")
    look(client, case.reference, number[-6:])
    look(client, case.reference, "123450" if number[-6:] != "123450" else "123451")
    look(client, "DC-1999-99999", number[-6:])
    shown, wrong, unknown = access_log(AccessKind.CITIZEN_LOOKUP)
    assert shown.actor is None and shown.case == case and "203.0.113.7" in shown.reason
    assert wrong.case == case and unknown.case is None and "DC-1999-99999" in unknown.reason
    for record in (shown, wrong, unknown):
        assert number[-6:] not in record.reason and "123450" not in record.reason
    assert "已显示办理进度" in shown.reason and "未显示任何内容" in wrong.reason
    assert verify_chain(PersonalDataAccess) is None


def test_a_bad_form_is_a_form_error_and_logs_nothing(db):
    for data in (
        {},
        {"reference": "x", "id_tail": "12"},
        {"reference": "x" * 100, "id_tail": "abcdef"},
        {"reference": "\x00", "id_tail": "\x00" * 6},
        {"reference": "DC", "id_tail": ["1", "2"]},
    ):
        response = Client().post(PROGRESS, data)
        assert response.status_code == 200 and 'class="error"' in page_of(response)
    assert not PersonalDataAccess.objects.exists()


def test_a_full_width_tail_and_a_lower_case_x_are_read_as_typed_on_paper(clerk, office):
    case = register_case(clerk=clerk, office=office)
    tail = case.applicant.id_number[-6:]
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in tail.lower())
    page = page_of(look(Client(), case.reference, full_width))
    assert 'id="progress-state">已挂失<' in page


def test_the_limit_per_address_refuses_further_looks_and_logs_none(case, settings):
    settings.PUBLIC_LOOKUP_LIMIT_PER_ADDRESS = 3
    number = case.applicant.id_number
    client = Client(REMOTE_ADDR="198.51.100.1")
    for i in range(3):
        assert look(client, f"DC-2000-0000{i}", "123456").status_code == 200
    refused = look(client, case.reference, number[-6:])
    assert refused.status_code == 429 and 'id="progress-state"' not in page_of(refused)
    assert len(access_log(AccessKind.CITIZEN_LOOKUP)) == 3
    # Another address is not held back.
    other = look(Client(REMOTE_ADDR="198.51.100.2"), case.reference, number[-6:])
    assert 'id="progress-state"' in page_of(other)


def test_the_limit_per_reference_holds_across_addresses_known_or_not(case, settings):
    settings.PUBLIC_LOOKUP_LIMIT_PER_REFERENCE = 2
    number = case.applicant.id_number
    for reference in (case.reference, "DC-1999-99999"):
        for i in range(2):
            look(Client(REMOTE_ADDR=f"192.0.2.{i}"), reference, "123456")
        refused = look(Client(REMOTE_ADDR="192.0.2.99"), reference, number[-6:])
        assert refused.status_code == 429
    # The typed reference is what counts, so an unknown one is limited alike.
    assert PublicLook.objects.filter(reference="DC-1999-99999").count() == 2


def test_looks_older_than_the_window_no_longer_count(case, settings):
    settings.PUBLIC_LOOKUP_LIMIT_PER_ADDRESS = 1
    client = Client(REMOTE_ADDR="198.51.100.3")
    look(client, "DC-2000-00001", "123456")
    assert look(client, "DC-2000-00001", "123456").status_code == 429
    PublicLook.objects.update(at=timezone.now() - datetime.timedelta(hours=1))
    assert look(client, "DC-2000-00001", "123456").status_code == 200


# Is this temporary card valid? ---------------------------------------------------------------


def test_a_card_out_is_valid_with_its_dates_and_the_holders_masked_name(card_case):
    page = page_of(check(Client(), card_case))
    name = card_case.applicant.name
    assert 'id="temp-card-verdict">有效<' in page
    assert f'id="temp-card-holder">{mask_name(name)}<' in page and name not in page
    assert f'id="temp-card-issued">{TODAY():%Y-%m-%d}<' in page
    assert f'id="temp-card-valid-until">{card_case.temp_card_valid_until:%Y-%m-%d}<' in page
    for secret in (card_case.applicant.id_number, card_case.reference, "TMP-0001"):
        assert secret not in page


def test_names_are_masked_after_their_first_character():
    assert mask_name("张三丰") == "张**" and mask_name("张三") == "张*" and mask_name("张") == "*"


def test_a_card_past_its_validity_is_expired(card_case):
    yesterday = TODAY() - datetime.timedelta(days=1)
    ReissueCase.objects.filter(pk=card_case.pk).update(temp_card_valid_until=yesterday)
    assert 'id="temp-card-verdict">已过期<' in page_of(check(Client(), card_case))


def test_lifting_the_loss_report_revokes_the_card_at_once(card_case, clerk):
    path = temp_card_check_path(card_case)
    services.case_lift_loss_report(
        case=card_case, acting_user=clerk, reason="在家中找到", temp_card_returned=True
    )
    assert 'id="temp-card-verdict">已作废<' in page_of(check(Client(), path))


def test_cancelling_the_case_revokes_the_card(card_case, supervisor):
    path = temp_card_check_path(card_case)
    services.case_cancel(case=card_case, acting_user=supervisor, reason="申请人撤回")
    assert 'id="temp-card-verdict">已作废<' in page_of(check(Client(), path))


def test_the_new_card_handed_over_revokes_the_card(clerk, office):
    case = register_case(
        clerk=clerk, office=office, lost_items=LostItems.SS_CARD, presented_id_card=True
    )
    case = services.case_issue_temp_card(
        case=case, acting_user=clerk, card_number="TMP-0002", issued_on=TODAY()
    )
    path = temp_card_check_path(case)
    assert "有效" in page_of(check(Client(), path))
    services.case_reissue_ss_card(
        case=case,
        acting_user=clerk,
        card_number="SS-N-0001",
        issued_on=TODAY(),
        temp_card_returned=True,
    )
    assert 'id="temp-card-verdict">已作废<' in page_of(check(Client(), path))


def test_a_card_handed_back_is_revoked(card_case):
    path = temp_card_check_path(card_case)
    ReissueCase.objects.filter(pk=card_case.pk).update(temp_card_returned=True)
    assert 'id="temp-card-verdict">已作废<' in page_of(check(Client(), path))


def test_a_code_of_a_card_since_issued_again_under_another_number_is_revoked(card_case):
    path = temp_card_check_path(card_case)
    ReissueCase.objects.filter(pk=card_case.pk).update(temp_card_number="TMP-0099")
    card_case.refresh_from_db()
    assert 'id="temp-card-verdict">已作废<' in page_of(check(Client(), path))
    assert 'id="temp-card-verdict">有效<' in page_of(check(Client(), card_case))


@pytest.mark.parametrize(
    "token",
    [
        "x",
        "1",
        "%00",
        "..%2F..%2Fetc",
        "WzEsIlRNUC0wMDAxIiwiMjAyNi0wMS0wMSJd:forged",
        "a" * 3000,
        "你好",
    ],
)
def test_a_damaged_or_forged_code_is_not_valid_never_an_error(db, token):
    response = Client().get(f"/public/temp-card/{token}/")
    assert response.status_code == 200
    assert 'id="temp-card-verdict"' in page_of(response) and "无效" in page_of(response)


def test_a_tampered_token_is_not_valid(card_case):
    token = temp_card_token(card_case)
    payload, signature = token.rsplit(":", 1)
    # The same content signed with another salt, and another case's pk under this signature.
    from django.core import signing

    other_salt = signing.dumps([card_case.pk, "TMP-0001", f"{TODAY():%Y-%m-%d}"], salt="other")
    other_case = signing.dumps([card_case.pk + 1, "TMP-0001", f"{TODAY():%Y-%m-%d}"], salt="x")
    for forged in (
        other_salt,
        other_case.rsplit(":", 1)[0] + ":" + signature,
        payload + ":" + signature[:-1] + ("A" if signature[-1] != "A" else "B"),
    ):
        page = page_of(check(Client(), reverse("public:temp_card", args=[forged])))
        assert "无效" in page and "有效<" not in page
    assert signing.loads(token, salt=TOKEN_SALT)[0] == card_case.pk


def test_every_check_is_in_the_access_log_and_the_limit_per_address_holds(card_case, settings):
    settings.PUBLIC_TEMP_CARD_CHECK_LIMIT_PER_ADDRESS = 2
    client = Client(REMOTE_ADDR="203.0.113.9")
    check(client, card_case)
    check(client, "/public/temp-card/forged/")
    refused = check(client, card_case)
    assert refused.status_code == 429 and "temp-card-verdict" not in page_of(refused)
    valid, forged = access_log(AccessKind.TEMP_CARD_CHECK)
    assert valid.case == card_case and valid.reason == "从203.0.113.9核验临时卡：有效"
    assert forged.case is None and "不对应任何临时卡" in forged.reason
    assert check(Client(REMOTE_ADDR="203.0.113.10"), card_case).status_code == 200


def test_the_slip_of_a_card_out_carries_the_check_code(client, clerk, card_case):
    client.force_login(clerk)
    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC), tick=False):
        slip = client.get(reverse("admin:reissue_reissuecase_slip", args=[card_case.pk]))
        url = "http://testserver" + temp_card_check_path(card_case)  # the same second's token
    page = page_of(slip)
    svg = re.search(r'<figure class="qr" id="slip-temp-card-qr">(<svg.*?</svg>)', page)[1]
    code = segno.make(url, error="m", micro=False)
    expected = {
        (row + 4, column + 4)
        for row, line in enumerate(code.matrix)
        for column, module in enumerate(line)
        if module
    }
    assert dark_modules(svg) == expected


def test_the_slip_without_a_card_out_has_no_check_code(client, clerk, case):
    client.force_login(clerk)
    page = page_of(client.get(reverse("admin:reissue_reissuecase_slip", args=[case.pk])))
    assert 'id="slip-qr"' in page and "slip-temp-card-qr" not in page


def test_both_pages_carry_the_csp_and_load_no_inline_script(card_case):
    for response in (Client().get(PROGRESS), check(Client(), card_case)):
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "default-src 'self'" in policy
        page = page_of(response)
        assert "<script" not in page and "style=" not in page
        assert "http://" not in page and "https://" not in page


@pytest.mark.real_second_factor
def test_a_supervisor_between_password_and_code_still_reaches_the_public_pages(
    client, supervisor, card_case
):
    client.force_login(supervisor)
    admin = client.get(reverse("admin:index"))
    assert admin.status_code == 302 and "/two-factor/" in admin["Location"]
    assert client.get(PROGRESS).status_code == 200
    assert "verdict-valid" in page_of(check(client, card_case))
