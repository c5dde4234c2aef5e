"""Bad input on the case and claim screens, sent through the real admin URLs.

Every bad value must come back as a form error (the page again, HTTP 200, with an error list)
or as a clean refusal (a redirect, 403 or 404): never a server error, and a refused form leaves
every row as it was. pytest-django resets the database per test, not per Hypothesis example, so
each example compares row counts and row values before and after its own request.

Free text (names, addresses, receipts, reasons) is stored tidied (reissue.text): without
invisible format characters, in NFKC form, blanks tidied; control characters and bidirectional
controls are refused, naming the character. Numbers with a pattern (ID numbers, phones, card
numbers) are checked as typed. Dates are bounded: a loss not in the future, not before 1984
(the first ID cards) nor (at registration, against the number typed) the applicant's birth; a
visit not in the future nor before the loss.
Each of these was once a server error or a silent acceptance found by these tests.
"""

import datetime
import itertools
import re
import sys
import unicodedata
import uuid
from decimal import Decimal
from urllib.parse import quote, unquote

import pytest
from django.core.validators import MinValueValidator
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from audit.models import AuditEntry
from claims import services as claim_services
from claims.models import ClaimItem, ExpenseCategory, ExpenseClaim
from common.id_numbers import compose_id_number
from common.text import BIDI_CONTROLS, forbidden_character, match_key, normalize_text
from exports.models import BackgroundExport
from exports.tasks import build_background_export
from ratings.models import Rating
from reissue import services
from reissue.forms import APPLICANT_FIELDS
from reissue.models import EARLIEST_LOSS_DATE, Applicant, LossKind, LostItems, ReissueCase
from reissue.rating_link import rating_path
from tests import strategies as bad
from tests.factories import (
    PolicyFactory,
    applicant_fields,
    claim_with_items,
    register_case,
    reissued_case,
    valid_id_number,
)

FUZZ = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TODAY = timezone.localdate()
AGENT_ID_NUMBER = valid_id_number(4242)
ADD_CASE = reverse("admin:reissue_reissuecase_add")
RECORDS = [Applicant, ReissueCase, AuditEntry, ExpenseClaim, ClaimItem]
CLEAN_REFUSALS = {301, 302, 403, 404}
_receipt_numbers = itertools.count(1)


# What a refusal looks like ---------------------------------------------------------------------


def row_counts() -> dict:
    return {model.__name__: model.objects.count() for model in RECORDS}


def row(obj) -> dict:
    """Return the stored values of one row, read afresh."""
    return type(obj).objects.filter(pk=obj.pk).values().get()


def shown_errors(response) -> dict:
    """Return {field: errors} of the form (and receipt rows) the page came back with."""
    context = response.context
    if "adminform" not in context:
        return dict(context["form"].errors)  # a workflow step's page
    errors = dict(context["adminform"].form.errors)
    for inline in context["inline_admin_formsets"]:
        if inline.formset.non_form_errors():
            errors["__formset__"] = inline.formset.non_form_errors()
        for row_errors in inline.formset.errors:
            errors.update(row_errors)
    return errors


def assert_refused_on_the_form(response, field: str | None = None) -> dict:
    """Assert the form came back with an error (on `field`, if given) and return the errors."""
    assert response.status_code == 200, f"expected the form again, got HTTP {response.status_code}"
    # The admin's note; an error on a forged hidden input (a row's `claim`) has no list of its own.
    page = response.content.decode()
    assert 'class="errorlist' in page or 'class="errornote' in page
    errors = shown_errors(response)
    assert errors, "the page came back without an error on the form"
    if field is not None:
        assert field in errors, f"errors on {sorted(errors)}, none on {field!r}"
    return errors


def bad_value(field: str, values, *, error_on: str | None = None, **others):
    """Return a strategy of (POST overrides, field the error belongs on)."""
    return values.map(lambda value: ({**others, field: value}, error_on or field))


def as_meant(value: str, *, upper: bool = False) -> str:
    """Return typed text as the clerk means it: invisible format characters dropped, in NFC
    (full-width punctuation kept), a receipt number also folded (NFKC) and upper-cased, blanks
    cut and tidied to single spaces."""
    shown = "".join(c for c in value if unicodedata.category(c) != "Cf")
    text = unicodedata.normalize("NFKC" if upper else "NFC", shown)
    if upper:
        text = unicodedata.normalize("NFKC", text.upper())
    return " ".join(text.split())


def has_hidden_controls(value: str) -> bool:
    """Return whether the text holds a control character (not a blank) or a bidi control."""
    return any(
        c in BIDI_CONTROLS or (unicodedata.category(c) == "Cc" and not c.isspace()) for c in value
    )


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# Registration ----------------------------------------------------------------------------------


def registration(office, /, **overrides) -> dict:
    return {
        **applicant_fields(),
        "office": office.pk,
        "lost_items": LostItems.BOTH,
        "loss_kind": LossKind.LOST,
        "loss_date": (TODAY - datetime.timedelta(days=3)).isoformat(),
        "presented_hukou_book": "on",
        **overrides,
    }


def bad_report_details() -> list:
    """Return (POST overrides, field) strategies of the report's fields, which the registration
    and the change form of a case share."""
    return [
        bad_value("lost_items", bad.not_a_choice(LostItems.values)),
        bad_value("loss_kind", bad.not_a_choice(LossKind.values)),
        bad_value(
            "loss_date",
            st.one_of(
                st.sampled_from(bad.BLANKS),
                bad.bad_dates(),
                bad.future_dates(TODAY),
                bad.dates_before(EARLIEST_LOSS_DATE),
            ),
        ),
        bad_value("agent_name", bad.bad_optional_text(50, "李四")),
        bad_value("agent_id_number", bad.bad_id_numbers(AGENT_ID_NUMBER).filter(str.strip)),
        bad_value(
            "agent_name",
            st.sampled_from(bad.BLANKS),
            agent_acts="on",
            agent_id_number=AGENT_ID_NUMBER,
        ),
        bad_value(
            "agent_id_number", st.sampled_from(bad.BLANKS), agent_acts="on", agent_name="李四"
        ),
    ]


BAD_REGISTRATION = st.one_of(
    bad_value("name", bad.bad_required_text(50, "张三")),
    bad_value("id_number", bad.bad_id_numbers(valid_id_number(7))),
    bad_value("phone", st.one_of(st.sampled_from(bad.BLANKS), bad.bad_phones())),
    bad_value("hukou_address", bad.bad_required_text(200, "北京市东城区幸福路1号")),
    bad_value("hukou_police_station", bad.bad_required_text(100, "东城派出所")),
    bad_value("office", st.sampled_from(["", *bad.BAD_PRIMARY_KEYS])),
    *bad_report_details(),
)


@pytest.fixture
def clerk_client(client, clerk):
    client.force_login(clerk)
    return client


@FUZZ
@given(bad_input=BAD_REGISTRATION)
@example(bad_input=({"id_number": "１１０１０５１９４９１２３１００２Ｘ"}, "id_number"))
@example(bad_input=({"office": "99999999999999999999"}, "office"))
@example(bad_input=({"loss_date": "2026-02-30"}, "loss_date"))
@example(bad_input=({"name": "张\x00三"}, "name"))
def test_registration_refuses_a_bad_field_and_saves_nothing(clerk_client, office, bad_input):
    overrides, field = bad_input
    before = row_counts()
    response = clerk_client.post(ADD_CASE, registration(office, **overrides))
    assert_refused_on_the_form(response, field)
    assert row_counts() == before


@FUZZ
@given(
    field=st.sampled_from(["name", "hukou_address", "hukou_police_station", "agent_name"]),
    value=st.one_of(bad.any_text, st.sampled_from(bad.ODD_UNICODE)),
)
def test_registration_stores_odd_text_tidied_or_refuses_it(clerk_client, office, field, value):
    agent = (
        {"agent_acts": "on", "agent_id_number": AGENT_ID_NUMBER} if field == "agent_name" else {}
    )
    before = row_counts()
    response = clerk_client.post(ADD_CASE, registration(office, **agent, **{field: value}))
    if response.status_code == 302:
        assert not has_hidden_controls(value)
        case = ReissueCase.objects.latest("pk")
        stored = getattr(case.applicant if field in APPLICANT_FIELDS else case, field)
        assert stored == as_meant(value)
        assert row_counts()["ReissueCase"] == before["ReissueCase"] + 1
    else:
        assert_refused_on_the_form(response, field)
        assert row_counts() == before


@FUZZ
@given(phone=bad.bad_phones().filter(lambda text: 0 < len(text.strip()) <= 20))
@example(phone="１３８００１３８０００")  # fullwidth digits: typed as on the card, or refused
@example(phone="abc")
def test_registration_refuses_a_malformed_phone_on_the_form(clerk_client, office, phone):
    before = row_counts()
    response = clerk_client.post(ADD_CASE, registration(office, phone=phone))
    assert_refused_on_the_form(response, "phone")
    assert row_counts() == before


@pytest.fixture
def known_applicant(clerk, supervisor, office):
    """Return an applicant whose only case was cancelled, so a new case may be registered."""
    case = register_case(clerk=clerk, office=office)
    services.case_cancel(case=case, acting_user=supervisor, reason="证件已找到")
    return case.applicant


@FUZZ
@given(name=st.text(alphabet=bad.solid_text, min_size=1, max_size=20))
@example(name="别人")
def test_registration_of_a_known_id_number_under_another_name_is_a_form_error(
    clerk_client, office, known_applicant, name
):
    assume(match_key(name) != match_key(known_applicant.name))
    before = row_counts()
    data = registration(office, id_number=known_applicant.id_number, name=name)
    response = clerk_client.post(ADD_CASE, data)
    assert_refused_on_the_form(response, "name")
    assert row_counts() == before


@pytest.mark.parametrize("name", ["王五", "别人"])
def test_registering_another_offices_applicant_tells_neither_name_nor_case(
    clerk_client, office, other_clerk, other_office, name
):
    theirs = register_case(
        clerk=other_clerk, office=other_office, applicant=Applicant(**applicant_fields(name="王五"))
    )
    before = row_counts()
    data = registration(office, id_number=theirs.applicant.id_number, name=name)
    response = clerk_client.post(ADD_CASE, data)
    errors = assert_refused_on_the_form(response, "id_number")
    assert errors["id_number"] == [
        "This ID number cannot be registered here. Ask your supervisor, who can clear it with "
        "the other offices."
    ]
    page = response.content.decode()
    assert "another name" not in page and "open case" not in page
    assert row_counts() == before


def test_registration_of_a_known_id_number_under_its_name_typed_wide_is_accepted(
    clerk_client, office, known_applicant
):
    name = f"\u3000{bad.fullwidth(known_applicant.name)}\u200b"
    data = registration(office, id_number=known_applicant.id_number, name=name)
    assert clerk_client.post(ADD_CASE, data).status_code == 302
    assert ReissueCase.objects.latest("pk").applicant == known_applicant


TERMINAL_AND_BIDI_CONTROLS = ["\x1b", "\x07", "\x08", "\x7f", "\x9b", "\u202e", "\u2066"]


@FUZZ
@given(
    field=st.sampled_from(["name", "hukou_address", "hukou_police_station", "agent_name"]),
    spot=st.integers(0, 3),
    control=st.sampled_from(TERMINAL_AND_BIDI_CONTROLS),
)
@example(field="name", spot=1, control="\x1b")
def test_registration_refuses_control_characters_in_names_and_addresses(
    clerk_client, office, field, spot, control
):
    agent = (
        {"agent_acts": "on", "agent_id_number": AGENT_ID_NUMBER} if field == "agent_name" else {}
    )
    value = "张三丰"[:spot] + control + "[31m张三丰"[spot:]
    before = row_counts()
    response = clerk_client.post(ADD_CASE, registration(office, **agent, **{field: value}))
    errors = assert_refused_on_the_form(response, field)
    assert f"U+{ord(control):04X}" in " ".join(errors[field])  # the clerk is told which one
    assert row_counts() == before


@FUZZ
@given(loss_date=st.one_of(bad.far_past_dates(), bad.dates_before(EARLIEST_LOSS_DATE)))
@example(loss_date="1000-01-01")
@example(loss_date="1983-12-31")
def test_registration_refuses_a_loss_date_before_the_first_id_cards(
    clerk_client, office, loss_date
):
    before = row_counts()
    response = clerk_client.post(ADD_CASE, registration(office, loss_date=loss_date))
    assert_refused_on_the_form(response, "loss_date")
    assert row_counts() == before


@FUZZ
@given(days_before_birth=st.integers(1, 5000))  # all after 1984: the birth is what refuses
@example(days_before_birth=1)
def test_registration_refuses_a_loss_date_before_the_applicant_was_born(
    clerk_client, office, days_before_birth
):
    birth_date = datetime.date(2001, 3, 4)
    loss_date = birth_date - datetime.timedelta(days=days_before_birth)
    data = registration(
        office,
        id_number=compose_id_number("110101", birth_date, 123),
        loss_date=loss_date.isoformat(),
    )
    before = row_counts()
    response = clerk_client.post(ADD_CASE, data)
    errors = assert_refused_on_the_form(response, "loss_date")
    assert "2001-03-04" in " ".join(errors["loss_date"])
    assert row_counts() == before


# The lists' search box -------------------------------------------------------------------------

ID_RUN = re.compile(r"\d{17}[\dXx]")


def id_number_terms(number: str) -> st.SearchStrategy[str]:
    """The number as people type it (blanks, lower-case x, full-width) and near misses."""
    return st.one_of(
        st.just(number),
        st.just(f"{number[:6]} {number[6:14]} {number[14:]}"),
        st.just(f"\t{number.lower()}  "),
        st.just(bad.fullwidth(number)),
        st.integers(1, 17).map(lambda n: number[:n]),  # a partial number
        st.integers(1, 17).map(lambda n: number[-n:]),
        bad.bad_id_numbers(number),
        st.text(max_size=300),
    )


@FUZZ
@given(data=st.data())
@example(data=None)
def test_the_search_box_answers_any_term_without_an_error_and_no_url_holds_a_number(
    clerk_client, case, data
):
    number = case.applicant.id_number
    term = number[:10] if data is None else data.draw(id_number_terms(number))
    for admin_name in ("reissue_reissuecase", "reissue_applicant"):
        redirect = clerk_client.post(reverse(f"admin:{admin_name}_search"), {"q": term})
        assert redirect.status_code == 302
        location = redirect["Location"]
        assert not ID_RUN.search(unquote(location)), location
        page = clerk_client.get(location, follow=True)
        assert page.status_code == 200
        found = case.applicant.name in page.content.decode()
        typed = unicodedata.normalize("NFKC", "".join(term.split())).upper()
        if re.fullmatch(r"[0-9]{17}[0-9X]", typed):  # a whole number's shape: by token
            assert "qt=" in location and found == (typed == number)
        elif re.search(r"[0-9]{8}", typed):  # much of a number: refused, not put in the URL
            assert "q=" not in location and "qt=" not in location
        elif len(typed) >= 6 and typed[:6].isdigit():
            assert not found  # digits never find a number by its start or its end


# The case's change form ------------------------------------------------------------------------


@pytest.fixture
def case(clerk, office):
    return register_case(
        clerk=clerk, office=office, lost_items=LostItems.SS_CARD, presented_id_card=True
    )


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def step_url(obj, name: str) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_step", args=[obj.pk, name])


def case_details(case, **overrides) -> dict:
    """Return the change form's POST data with the case's current values."""
    ticked = {
        name: "on"
        for name in ("presented_hukou_book", "presented_id_card", "presented_photo")
        if getattr(case, name)
    }
    return {
        "lost_items": case.lost_items,
        "loss_kind": case.loss_kind,
        "loss_date": case.loss_date.isoformat(),
        **ticked,
        "agent_name": case.agent_name,
        "agent_id_number": "",
        **overrides,
    }


BAD_CASE_DETAILS = st.one_of(*bad_report_details())


@FUZZ
@given(bad_input=BAD_CASE_DETAILS)
@example(bad_input=({"loss_date": "9999-12-31"}, "loss_date"))
@example(bad_input=({"agent_acts": "on", "agent_name": "李四"}, "agent_id_number"))
def test_case_change_form_refuses_bad_details_and_changes_nothing(clerk_client, case, bad_input):
    overrides, field = bad_input
    before, counts = row(case), row_counts()
    response = clerk_client.post(change_url(case), case_details(case, **overrides))
    assert_refused_on_the_form(response, field)
    assert row(case) == before and row_counts() == counts


@FUZZ
@given(days_before_birth=st.integers(1, 5000))
@example(days_before_birth=1)
def test_case_change_form_never_tells_the_birth_date_by_refusing_a_loss_date(
    clerk_client, office, clerk, days_before_birth
):
    # Refusing a date "before the birth date" on an edit would let a clerk, who sees the
    # number masked, find the birth date by trying dates. Only 1984 and the future refuse.
    birth_date = datetime.date(2001, 3, 4)
    order = next(_receipt_numbers) % 1000  # one applicant per example
    person = applicant_fields(id_number=compose_id_number("110101", birth_date, order))
    case = register_case(clerk=clerk, office=office, applicant=Applicant(**person))
    loss_date = max(birth_date - datetime.timedelta(days=days_before_birth), EARLIEST_LOSS_DATE)
    response = clerk_client.post(
        change_url(case), case_details(case, loss_date=loss_date.isoformat())
    )
    assert response.status_code == 302
    assert b"2001-03-04" not in response.content
    assert ReissueCase.objects.get(pk=case.pk).loss_date == loss_date


def test_posting_the_change_form_of_a_case_finished_meanwhile_changes_nothing(
    clerk_client, case, supervisor
):
    # The clerk opened the page; a supervisor cancelled the case before the clerk saved.
    services.case_cancel(case=case, acting_user=supervisor, reason="证件已找到")
    before, counts = row(case), row_counts()
    response = clerk_client.post(change_url(case), case_details(case, loss_kind=LossKind.STOLEN))
    assert response.status_code in CLEAN_REFUSALS
    assert row(case) == before and row_counts() == counts


# Workflow steps of a case ----------------------------------------------------------------------

CARD_STEPS = ["issue_temp_card", "reissue_ss_card"]
BAD_CARD_STEP_INPUT = st.one_of(
    bad_value("card_number", st.one_of(st.sampled_from(bad.BLANKS), bad.bad_card_numbers())),
    bad_value(
        "issued_on",
        st.one_of(
            st.sampled_from(bad.BLANKS),
            bad.bad_dates(),
            bad.future_dates(TODAY),
            bad.far_past_dates(),  # before the loss
        ),
    ),
    bad_value("comment", bad.bad_optional_text(500)),
)


def assert_step_refused(response, obj, field, *, before, counts) -> None:
    assert_refused_on_the_form(response, field)
    assert row(obj) == before and row_counts() == counts


@FUZZ
@given(step=st.sampled_from(CARD_STEPS), bad_input=BAD_CARD_STEP_INPUT)
@example(step="reissue_ss_card", bad_input=({"card_number": "ＳＳ-１２３４"}, "card_number"))
@example(step="issue_temp_card", bad_input=({"issued_on": "1000-01-01"}, "issued_on"))
@example(step="issue_temp_card", bad_input=({"card_number": "TMP-1\u202e001"}, "card_number"))
def test_card_steps_refuse_bad_input_and_change_nothing(clerk_client, case, step, bad_input):
    overrides, field = bad_input
    data = {"card_number": "TMP-1001", "issued_on": TODAY.isoformat(), **overrides}
    before, counts = row(case), row_counts()
    response = clerk_client.post(step_url(case, step), {**data, "expected_state": case.state})
    assert_step_refused(response, case, field, before=before, counts=counts)


@FUZZ
@given(
    bad_input=st.one_of(
        bad_value("reason", bad.bad_required_text(500, "证件已找到")),
        bad_value("comment", bad.bad_optional_text(500), reason="证件已找到"),
    )
)
def test_cancel_refuses_a_missing_or_bad_reason(supervisor, case, bad_input):
    overrides, field = bad_input
    before, counts = row(case), row_counts()
    response = logged_in(supervisor).post(step_url(case, "cancel"), overrides)
    assert_step_refused(response, case, field, before=before, counts=counts)


@FUZZ
@given(expected_state=bad.any_text.filter(lambda text: text and text != "reported"))
def test_a_step_posted_for_another_state_is_refused_cleanly(clerk_client, case, expected_state):
    before, counts = row(case), row_counts()
    response = clerk_client.post(
        step_url(case, "issue_temp_card"),
        {
            "card_number": "TMP-1001",
            "issued_on": TODAY.isoformat(),
            "expected_state": expected_state,
        },
    )
    assert response.status_code == 302
    assert row(case) == before and row_counts() == counts


def typed_step_url(changelist: str, object_id: str, name: str) -> str:
    """Return a step URL as a user could type it; `reverse` refuses some of these paths."""
    return f"{reverse(changelist)}{quote(object_id, safe='')}/step/{quote(name, safe='')}/"


@FUZZ
@given(
    object_id=st.one_of(st.sampled_from(bad.BAD_PRIMARY_KEYS), bad.any_text.filter(str.strip)),
    name=st.one_of(
        st.sampled_from([*CARD_STEPS, "cancel", "close", "submit", "pay", "__init__", ".."]),
        bad.any_text.filter(str.strip),
    ),
)
@example(object_id="１", name="issue_temp_card")  # int("１") == 1: the case itself, no refusal
def test_steps_of_unknown_objects_or_names_are_refused_cleanly(clerk_client, case, object_id, name):
    before, counts = row(case), row_counts()
    for changelist in (
        "admin:reissue_reissuecase_changelist",
        "admin:claims_expenseclaim_changelist",
    ):
        response = clerk_client.post(typed_step_url(changelist, object_id, name), {"reason": "x"})
        if response.status_code not in CLEAN_REFUSALS:
            assert_refused_on_the_form(response)
    assert row(case) == before and row_counts() == counts


@FUZZ
@given(
    name=st.one_of(
        st.sampled_from(["00000000-0000-0000-0000-000000000000", str(uuid.uuid4()), "..", "%00"]),
        bad.any_text.filter(str.strip),
    ),
    suffix=st.sampled_from(["", "confirm/"]),
)
def test_import_progress_pages_of_made_up_uploads_are_refused_cleanly(
    client, supervisor, name, suffix
):
    # The pages of a worker's check and import: whatever the address, a refusal, never a 500.
    client.force_login(supervisor)
    counts = row_counts()
    url = f"{reverse('admin:reissue_reissuecase_import')}{quote(name, safe='')}/{suffix}"
    assert client.get(url).status_code in CLEAN_REFUSALS
    assert client.post(url).status_code in CLEAN_REFUSALS
    assert row_counts() == counts


# Receipts of a claim ---------------------------------------------------------------------------


@pytest.fixture
def claim(clerk, office):
    PolicyFactory(office=office)
    return claim_with_items(case=reissued_case(clerk=clerk, office=office), clerk=clerk)


def item_rows(*rows, initial=0) -> dict:
    """Return the POST data of the receipts inline: existing rows first, then new ones."""
    data = {
        "items-TOTAL_FORMS": str(len(rows)),
        "items-INITIAL_FORMS": str(initial),
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    for index, fields in enumerate(rows):
        data.update({f"items-{index}-{key}": value for key, value in fields.items()})
    return data


def receipt(claim, **overrides) -> dict:
    return {
        "provider": "朝阳医院",
        "visit_date": claim.case.loss_date.isoformat(),
        "receipt_number": f"R-{next(_receipt_numbers):06d}",
        "category": ExpenseCategory.OUTPATIENT,
        "amount": "120.00",
        **overrides,
    }


def receipts_of(claim) -> list[dict]:
    return list(ClaimItem.objects.filter(claim=claim).order_by("pk").values())


AMOUNT_FIELD = ClaimItem._meta.get_field("amount").formfield()
BAD_RECEIPT = st.one_of(
    bad_value("provider", bad.bad_required_text(100, "朝阳医院")),
    bad_value(
        "visit_date",
        st.one_of(
            st.sampled_from(bad.BLANKS),
            bad.bad_dates(),
            bad.future_dates(TODAY),
            bad.dates_before(TODAY - datetime.timedelta(days=3)),  # before the loss
        ),
    ),
    bad_value("receipt_number", bad.bad_required_text(40, "R-000001")),
    bad_value("category", bad.not_a_choice(ExpenseCategory.values)),
    bad_value(
        "amount",
        bad.bad_amounts(bad.refused_by(AMOUNT_FIELD, also=[MinValueValidator(0.01)])),
    ),
)


@FUZZ
@given(existing=st.booleans(), bad_input=BAD_RECEIPT)
@example(existing=False, bad_input=({"amount": "1e309"}, "amount"))
@example(existing=False, bad_input=({"amount": "NaN"}, "amount"))
@example(existing=True, bad_input=({"amount": "-Infinity"}, "amount"))
@example(existing=True, bad_input=({"amount": "99999999999.99"}, "amount"))
@example(existing=False, bad_input=({"amount": "0.001"}, "amount"))
@example(existing=False, bad_input=({"visit_date": "0000-00-00"}, "visit_date"))
def test_receipts_inline_refuses_a_bad_field_and_saves_nothing(
    clerk_client, claim, existing, bad_input
):
    overrides, field = bad_input
    if existing:
        item = claim.items.get()
        data = item_rows(
            {"id": item.pk, "claim": claim.pk, **receipt(claim, **overrides)}, initial=1
        )
    else:
        data = item_rows(receipt(claim, **overrides))
    before, counts = receipts_of(claim), row_counts()
    response = clerk_client.post(change_url(claim), data)
    assert_refused_on_the_form(response, field)
    assert receipts_of(claim) == before and row_counts() == counts


@FUZZ
@given(
    field=st.sampled_from(["provider", "receipt_number"]),
    value=st.one_of(bad.any_text, st.sampled_from(bad.ODD_UNICODE)),
)
def test_receipts_keep_odd_text_as_normalized_or_refuse_it(clerk_client, claim, field, value):
    before = row_counts()
    response = clerk_client.post(change_url(claim), item_rows(receipt(claim, **{field: value})))
    if response.status_code == 302:
        assert not has_hidden_controls(value)
        stored = getattr(ClaimItem.objects.latest("pk"), field)
        assert stored == as_meant(value, upper=field == "receipt_number")
        assert row_counts()["ClaimItem"] == before["ClaimItem"] + 1
    else:
        assert_refused_on_the_form(response, field)
        assert row_counts() == before


@FUZZ
@given(
    amount=st.sampled_from(
        ["１２０.５０", "１２０", "120.5", "1e2", " 120.50 ", "00120.50", "1_000"]
    )
)
def test_an_accepted_amount_is_stored_as_the_number_typed(clerk_client, claim, amount):
    # Fullwidth digits and exponents are understood by Decimal; then they must mean the number.
    response = clerk_client.post(change_url(claim), item_rows(receipt(claim, amount=amount)))
    if response.status_code == 302:
        typed = Decimal(bad.halfwidth(amount.strip()))
        assert ClaimItem.objects.latest("pk").amount == typed
    else:
        assert_refused_on_the_form(response, "amount")


TAMPERED_MANAGEMENT = st.one_of(
    st.fixed_dictionaries(
        {"items-TOTAL_FORMS": st.sampled_from(["", "abc", "1e3", "１", "-1", "1.0", "\x00"])}
    ),
    st.fixed_dictionaries({"items-INITIAL_FORMS": st.sampled_from(["", "abc", "-5", "2", "１"])}),
    st.fixed_dictionaries(
        {
            "items-INITIAL_FORMS": st.just("1"),
            "items-0-id": st.sampled_from(["", *bad.BAD_PRIMARY_KEYS]),
        }
    ),
    st.fixed_dictionaries({"items-0-claim": st.sampled_from(["", *bad.BAD_PRIMARY_KEYS])}),
    st.fixed_dictionaries({"items-0-DELETE": bad.any_text}),
)


@settings(FUZZ, max_examples=15)
@given(tampered=TAMPERED_MANAGEMENT, row_is_bad=st.booleans())
# Django caps the forms it builds (absolute_max, 2000 here): once is enough, it takes seconds.
@example(tampered={"items-TOTAL_FORMS": "99999999999999999999"}, row_is_bad=True)
def test_a_tampered_receipts_formset_is_refused_or_ignored(
    clerk_client, claim, tampered, row_is_bad
):
    before, earlier = row_counts(), receipts_of(claim)
    posted = receipt(claim, amount="-1" if row_is_bad else "120.00")
    response = clerk_client.post(change_url(claim), {**item_rows(posted), **tampered})
    assert response.status_code in CLEAN_REFUSALS | {200}
    if response.status_code == 200:
        assert_refused_on_the_form(response)
    if row_is_bad:
        assert row_counts() == before  # tampering must not slip a refused row through
        return
    added = ClaimItem.objects.filter(claim=claim).exclude(pk__in=[r["id"] for r in earlier])
    assert [item.receipt_number for item in added] in ([], [posted["receipt_number"]])


@FUZZ
@given(amount=st.sampled_from(["sNaN", "-sNaN", "+snan", " sNaN ", "sNaN42"]))
@example(amount="sNaN")
def test_a_signalling_nan_over_a_receipts_amount_is_a_form_error(clerk_client, claim, amount):
    item = claim.items.get()
    before, counts = receipts_of(claim), row_counts()
    data = item_rows({"id": item.pk, "claim": claim.pk, **receipt(claim, amount=amount)}, initial=1)
    response = clerk_client.post(change_url(claim), data)
    assert_refused_on_the_form(response, "amount")
    assert receipts_of(claim) == before and row_counts() == counts


@FUZZ
@given(
    number=st.from_regex(r"[A-Za-z]{1,4}-[0-9]{1,6}", fullmatch=True).filter(
        lambda number: number.lower() != number.upper()
    )
)
@example(number="r-7")
def test_receipts_differing_only_in_letter_case_in_one_post_are_refused(
    clerk_client, claim, number
):
    before = row_counts()
    rows = [
        receipt(claim, receipt_number=number.lower(), provider="朝阳  医院"),
        receipt(claim, receipt_number=number.upper(), provider="朝阳 医院"),
    ]
    response = clerk_client.post(change_url(claim), item_rows(*rows))
    errors = assert_refused_on_the_form(response)
    assert "entered twice" in " ".join(errors["__formset__"])
    assert row_counts() == before


@FUZZ
@given(
    number=st.text(alphabet=st.sampled_from("ßŉǰΐﬁﬀﬃ"), min_size=21, max_size=40).filter(
        lambda number: len(number.upper()) > 40
    )
)
@example(number="ß" * 40)
def test_a_receipt_number_too_long_once_upper_cased_is_a_form_error(clerk_client, claim, number):
    before = row_counts()
    response = clerk_client.post(
        change_url(claim), item_rows(receipt(claim, receipt_number=number))
    )
    assert_refused_on_the_form(response, "receipt_number")
    assert row_counts() == before


def _variants_of(text: str) -> st.SearchStrategy[str]:
    return st.one_of(
        bad.with_inserted(text, bad.INVISIBLE_CHARACTERS), st.just(bad.fullwidth(text))
    )


@FUZZ
@given(
    which=st.sampled_from(["receipt_number", "provider"]),
    variant=st.data(),
)
@example(which="receipt_number", variant=None)
@example(which="provider", variant=None)
def test_a_claimed_receipt_is_not_claimed_again_in_disguise(clerk_client, claim, which, variant):
    earlier = claim.items.get()
    original = getattr(earlier, which)
    disguised = bad.fullwidth(original) if variant is None else variant.draw(_variants_of(original))
    before = row_counts()
    fields = {"provider": earlier.provider, "receipt_number": earlier.receipt_number}
    response = clerk_client.post(
        change_url(claim), item_rows(receipt(claim, **{**fields, which: disguised}))
    )
    assert_refused_on_the_form(response)
    assert row_counts() == before


@FUZZ
@given(visit_date=st.one_of(bad.future_dates(TODAY), bad.far_past_dates()))
@example(visit_date="9999-12-31")
def test_receipts_refuse_a_visit_date_in_the_future_or_far_past(clerk_client, claim, visit_date):
    before = row_counts()
    response = clerk_client.post(
        change_url(claim), item_rows(receipt(claim, visit_date=visit_date))
    )
    assert_refused_on_the_form(response, "visit_date")
    assert row_counts() == before


def test_a_visit_before_the_loss_is_refused_naming_the_date_of_loss(clerk_client, claim):
    loss_date = claim.case.loss_date
    day_before = (loss_date - datetime.timedelta(days=1)).isoformat()
    before = row_counts()
    response = clerk_client.post(
        change_url(claim), item_rows(receipt(claim, visit_date=day_before))
    )
    errors = assert_refused_on_the_form(response, "visit_date")
    assert loss_date.isoformat() in " ".join(errors["visit_date"])
    assert row_counts() == before


def test_a_visit_after_the_new_card_is_accepted_and_listed_ineligible(clerk_client, claim):
    # The gap ends when the new SS card is issued (two days after the loss here); a later visit
    # is not a typing slip, so it is kept and the review says why it does not count.
    visit_date = claim.case.ss_card_issued_on + datetime.timedelta(days=1)
    assert visit_date <= TODAY
    response = clerk_client.post(
        change_url(claim), item_rows(receipt(claim, visit_date=visit_date.isoformat()))
    )
    assert response.status_code == 302
    page = clerk_client.get(change_url(claim)).content.decode()
    assert "after the new SS card was issued" in page


# Decisions on a claim --------------------------------------------------------------------------


@pytest.fixture
def submitted_claim(clerk, office):
    PolicyFactory(office=office)
    case = reissued_case(clerk=clerk, office=office)
    return claim_with_items(case=case, clerk=clerk, submit=True)


@FUZZ
@given(
    bad_input=st.one_of(
        bad_value("reason", bad.bad_required_text(500, "票据不符")),
        bad_value("comment", bad.bad_optional_text(500), reason="票据不符"),
    )
)
def test_reject_refuses_a_missing_or_bad_reason(reviewer, submitted_claim, bad_input):
    overrides, field = bad_input
    before, counts = row(submitted_claim), row_counts()
    response = logged_in(reviewer).post(
        step_url(submitted_claim, "reject"), {**overrides, "expected_state": "submitted"}
    )
    assert_step_refused(response, submitted_claim, field, before=before, counts=counts)


@pytest.fixture
def approved_claim(reviewer, submitted_claim):
    return claim_services.claim_approve(claim=submitted_claim, acting_user=reviewer)


@FUZZ
@given(
    bad_input=st.one_of(
        bad_value("payment_reference", bad.bad_required_text(64, "PAY-77")),
        bad_value("comment", bad.bad_optional_text(500), payment_reference="PAY-77"),
    )
)
def test_pay_refuses_a_missing_or_bad_payment_reference(supervisor, approved_claim, bad_input):
    claim = approved_claim
    overrides, field = bad_input
    before, counts = row(claim), row_counts()
    response = logged_in(supervisor).post(
        step_url(claim, "pay"), {**overrides, "expected_state": "approved"}
    )
    assert_step_refused(response, claim, field, before=before, counts=counts)
    assert ReissueCase.objects.get(pk=claim.case_id).state == "ss_card_reissued"


@pytest.fixture(params=["cancel", "reject", "pay"])
def reason_step(request, office, clerk, reviewer, supervisor):
    """Return (client, object, step name, field) of a step whose text must not be blank."""
    PolicyFactory(office=office)
    if request.param == "cancel":
        return logged_in(supervisor), register_case(clerk=clerk, office=office), "cancel", "reason"
    claim = claim_with_items(case=reissued_case(clerk=clerk, office=office), clerk=clerk)
    claim = claim_services.claim_submit(claim=claim, acting_user=clerk)
    if request.param == "reject":
        return logged_in(reviewer), claim, "reject", "reason"
    claim = claim_services.claim_approve(claim=claim, acting_user=reviewer)
    return logged_in(supervisor), claim, "pay", "payment_reference"


@FUZZ
@given(text=st.text(alphabet=st.sampled_from(bad.INVISIBLE_CHARACTERS), min_size=1, max_size=4))
@example(text="\u200b")
def test_a_reason_of_invisible_characters_only_is_refused(reason_step, text):
    client, obj, step, field = reason_step
    before, counts = row(obj), row_counts()
    response = client.post(step_url(obj, step), {field: text, "expected_state": obj.state})
    assert_step_refused(response, obj, field, before=before, counts=counts)


# Tidied text -----------------------------------------------------------------------------------


@settings(FUZZ, max_examples=200)
@given(
    value=st.one_of(bad.any_text, st.sampled_from(bad.ODD_UNICODE)),
    multiline=st.booleans(),
    fold=st.booleans(),
    upper=st.booleans(),
)
def test_text_tidied_once_stays_as_it_is(value, multiline, fold, upper):
    # Saving a record again must not change its text (nor write a change to the audit trail).
    tidied = normalize_text(value, multiline=multiline, fold=fold, upper=upper)
    assert normalize_text(tidied, multiline=multiline, fold=fold, upper=upper) == tidied


def test_every_invisible_format_character_is_taken_out_of_a_name():
    # All of Unicode's format characters (category Cf), not only those of our strategies;
    # the bidirectional controls stay, to be refused with where they are.
    format_characters = [
        chr(point)
        for point in range(sys.maxunicode + 1)
        if unicodedata.category(chr(point)) == "Cf"
    ]
    assert len(format_characters) > 150
    for character in format_characters:
        kept = character if character in BIDI_CONTROLS else ""
        assert normalize_text(f"王{character}伟 ") == f"王{kept}伟", hex(ord(character))


def test_every_control_and_bidirectional_character_is_found_in_a_name():
    controls = [chr(point) for point in range(0x110000) if unicodedata.category(chr(point)) == "Cc"]
    for character in [*controls, *BIDI_CONTROLS]:
        found = None if character in "\n\t" else (2, character)
        assert forbidden_character(f"王{character}伟") == found, hex(ord(character))


# Dates outside the supported range (1984-01-01 .. 2100-12-31) ----------------------------------
# A year-1 or year-9999 moment cannot be converted to UTC: each was an OverflowError (a 500).

OUT_OF_RANGE_DAYS = ["0001-01-01", "1983-12-31", "2101-01-01", "9999-12-31"]
RANGE_ERROR = "Give a date between 1984-01-01 and 2100-12-31."


@pytest.mark.parametrize("day", OUT_OF_RANGE_DAYS)
@pytest.mark.parametrize("field", ["discovered_at", "occurred_at"])
def test_an_incident_dated_outside_the_supported_range_is_a_form_error(
    supervisor, office, field, day
):
    from incidents.models import Incident

    client = logged_in(supervisor)
    response = client.post(
        reverse("admin:incidents_incident_add"),
        {
            "title": "Letters sent to the wrong addresses",
            "description": "Twelve decision letters went to the neighbours.",
            "discovered_at_0": TODAY.isoformat(),
            "discovered_at_1": "08:00:00",
            f"{field}_0": day,
            f"{field}_1": "00:00:00",
        },
    )
    errors = assert_refused_on_the_form(response, field)
    assert RANGE_ERROR in errors[field]
    assert not Incident.objects.exists()


@pytest.mark.parametrize("day", OUT_OF_RANGE_DAYS)
def test_an_incident_step_dated_outside_the_supported_range_is_a_form_error(
    supervisor, office, day
):
    from tests.incidents.conftest import report_incident, take_steps

    incident = take_steps(
        report_incident(user=supervisor), user=supervisor, until="record_notifications"
    )
    client = logged_in(supervisor)
    before = row(incident)
    response = client.post(
        step_url(incident, "record_notifications"),
        {
            "persons_notified_at": f"{day}T08:00",
            "notification_method": "SMS",
            "authority_informed_at": f"{TODAY.isoformat()}T08:00",
            "authority_name": "市网信办",
            "expected_state": incident.state,
        },
    )
    errors = assert_refused_on_the_form(response, "persons_notified_at")
    assert RANGE_ERROR in errors["persons_notified_at"]
    assert row(incident) == before


@pytest.mark.parametrize(
    "period",
    [
        {"date_from": "0001-01-01", "date_to": "0001-01-02"},
        {"date_from": "9999-12-30", "date_to": "9999-12-31"},
        {"date_from": "2026-01-01", "date_to": "9999-12-31"},
        {"date_from": "0001-01-01"},
    ],
)
def test_a_dashboard_period_outside_the_supported_range_is_a_form_error(supervisor, period):
    client = logged_in(supervisor)
    for view in ("changelist", "csv", "xlsx"):
        response = client.get(reverse(f"admin:reports_supervisordashboard_{view}"), period)
        assert response.status_code == 200, view  # was an OverflowError
    page = client.get(reverse("admin:reports_supervisordashboard_changelist"), period)
    assert RANGE_ERROR in page.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "reported_at__gte=0001-01-01",
        "reported_at__gte=0001-01-01+00:00:00",
        "reported_at__lt=9999-12-31",
        "reported_at__gte=2026-01-01&reported_at__lt=9999-12-31",
        "reported_at__lte=0001-01-01",
        "reported_at__date__gte=0001-01-01",
        "reported_at__year=0",
        "reported_at__range=0001-01-01,0001-01-02",
        "reported_at__in=9999-12-31",
    ],
)
def test_a_case_list_date_filter_outside_the_supported_range_is_refused_with_a_message(
    clerk_client, case, query
):
    changelist = reverse("admin:reissue_reissuecase_changelist")
    response = clerk_client.get(f"{changelist}?{query}")
    assert response.status_code == 302  # Django's "invalid filter" redirect, was a 500
    page = clerk_client.get(response.url)
    assert page.status_code == 200 and RANGE_ERROR in page.content.decode()


# The public pages (public/): no log-in, so anyone may send anything -----------------------

PUBLIC_PROGRESS = reverse("public:case_progress")


@FUZZ
@given(
    reference=st.one_of(bad.bad_required_text(32), st.text(max_size=40)),
    id_tail=st.one_of(bad.bad_id_numbers("11010519491231002X"), st.text(max_size=8)),
)
@example(reference="DC-2026-00001", id_tail="\x00" * 6)
@example(reference="'; DROP TABLE reissue_reissuecase; --", id_tail="12345X")
def test_the_public_case_progress_form_answers_any_input_with_a_page(db, reference, id_tail):
    response = Client().post(PUBLIC_PROGRESS, {"reference": reference, "id_tail": id_tail})
    # A form error, "no such case", or (after many tries from the test's address) the limit.
    assert response.status_code in {200, 429}
    assert 'id="progress-state"' not in response.content.decode()


@FUZZ
@given(token=st.text(min_size=1, max_size=300).filter(lambda t: "/" not in t and "?" not in t))
@example(token="..")
@example(token="WzEsIlRNUC0wMDAxIiwiMjAyNi0wMS0wMSJd:1abcde:forged")
def test_the_temp_card_check_answers_any_code_with_not_valid(db, settings, token):
    settings.PUBLIC_TEMP_CARD_CHECK_LIMIT_PER_ADDRESS = 1000
    response = Client().get(f"/public/temp-card/{quote(token, safe='')}/")
    assert response.status_code in {200, 301, 404}  # 404: a path the URL pattern never takes
    if response.status_code == 200:
        assert "verdict-not-valid" in response.content.decode()


# The citizen's rating page (ratings/) --------------------------------------------------------


@FUZZ
@given(
    level=st.one_of(st.sampled_from(["satisfied", "dissatisfied"]), st.text(max_size=30)),
    comment=st.one_of(bad.any_text, bad.with_inserted("服务很好，谢谢！"), bad.overlong(500)),
)
def test_the_rating_page_answers_any_input_with_a_page_and_records_only_clean_text(
    clerk, office, level, comment
):
    case = reissued_case(clerk=clerk, office=office)
    response = Client().post(rating_path(case), {"level": level, "comment": comment})
    assert response.status_code == 200
    rating = Rating.objects.filter(case=case).first()
    if rating is None:
        assert 'class="error"' in response.content.decode()
    else:
        assert rating.level == level and len(rating.comment) <= 500
        assert not any(unicodedata.category(c) == "Cc" and c != "\n" for c in rating.comment)
        assert not any(c in BIDI_CONTROLS for c in rating.comment)


# Exports built in the background ---------------------------------------------------------------


@pytest.fixture
def built_export(supervisor, case):
    """An export of the case list the supervisor asked for, built."""
    client = logged_in(supervisor)
    response = client.post(
        reverse("admin:reissue_reissuecase_export"),
        {"format": "0", "resource": "0", "in_background": "on", "caseresource_reference": "on"},
    )
    assert response.status_code == 302
    export = BackgroundExport.objects.get()
    build_background_export.call(export.pk)
    return export


@FUZZ
@given(object_id=st.one_of(st.sampled_from(["１", "²", *bad.BAD_PRIMARY_KEYS]), bad.any_text))
def test_a_download_of_an_unknown_or_forged_export_id_is_not_found(
    supervisor, built_export, object_id
):
    url = reverse("admin:exports_backgroundexport_changelist")
    response = logged_in(supervisor).get(f"{url}{quote(object_id, safe='')}/download/")
    assert response.status_code in CLEAN_REFUSALS


@FUZZ
@given(
    fmt=st.one_of(st.sampled_from(["", "3", "-1", "1.0", "csv", "０"]), bad.any_text),
    in_background=st.one_of(st.sampled_from(["on", "", "0", "false"]), bad.any_text),
    column=st.one_of(
        st.sampled_from(["caseresource_reference", "applicant__id_number"]), bad.any_text
    ),
)
def test_the_export_page_answers_any_posted_format_and_columns_cleanly(
    supervisor, case, fmt, in_background, column
):
    before = BackgroundExport.objects.count()
    response = logged_in(supervisor).post(
        reverse("admin:reissue_reissuecase_export"),
        {"format": fmt, "resource": "0", "in_background": in_background, column: "on"},
    )
    if response.status_code not in CLEAN_REFUSALS and response.status_code != 200:
        raise AssertionError(response.status_code)
    if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
        assert BackgroundExport.objects.count() == before  # the page again: nothing queued
