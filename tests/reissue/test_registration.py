"""One set of rules for registering a report, whoever registers it: the form at the counter,
the service behind it, and the legacy import (`registration.check_registration`)."""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from common.id_numbers import compose_id_number, id_number_digest
from offices.scoping import office_ids_visible_to
from reissue import models, registration, services
from reissue.forms import CaseRegistrationForm
from reissue.legacy_import import LegacyCaseImport
from reissue.models import Applicant, ReissueCase
from tests.factories import ApplicantFactory, register_case, reissued_case

ZHANG_WEI = "110101198005171233"  # born 1980-05-17
PERSON = {
    "name": "张伟",
    "id_number": ZHANG_WEI,
    "phone": "13800138000",
    "hukou_address": "北京市东城区幸福路1号",
    "hukou_police_station": "东城派出所",
}
REPORT = {
    "lost_items": "both",
    "loss_kind": "lost",
    "loss_date": datetime.date(2024, 3, 5),
    "presented_hukou_book": True,
    "presented_id_card": False,
    "presented_photo": False,
    "converts_ic_card": False,
    "agent_acts": False,
    "agent_name": "",
    "agent_id_number": "",
}
NOT_HERE = (
    "This ID number cannot be registered here. Ask your supervisor, who can clear it with "
    "the other offices."
)
OPEN_CASE = "This applicant already has an open case; continue that case instead."
OTHER_NAME = "This ID number is registered under another name. Check the card."


# The three ways in: each returns {field: messages}, empty when the report may be registered.


def by_form(user, office, person, report) -> dict[str, list[str]]:
    data = {**person, **report, "office": office.pk, "loss_date": str(report["loss_date"])}
    form = CaseRegistrationForm(
        data={k: ("on" if v is True else v) for k, v in data.items() if v is not False}
    )
    form.acting_user = user
    # The form leads on to an open case its user may see; the words are the same.
    return {
        field: [re.sub(r", <a href=[^>]*>[^<]*</a>;", ";", message) for message in messages]
        for field, messages in form.errors.items()
    }


def by_service(user, office, person, report) -> dict[str, list[str]]:
    with transaction.atomic():
        try:
            services.case_register(
                case=ReissueCase(office=office, **report), applicant_fields=person, acting_user=user
            )
        except ValidationError as refusal:
            return refusal.message_dict
        transaction.set_rollback(True)  # registered: undone, as the other ways only check
    return {}


def by_import(user, office, person, report) -> dict[str, list[str]]:
    cells = {**person, **report, "office": office.code}
    row = ["1" if v is True else "0" if v is False else str(v) for v in cells.values()]
    outcome = LegacyCaseImport(acting_user=user).run(list(cells), [row], dry_run=True)
    return outcome.problems[0].errors if outcome.problems else {}


WAYS_IN = [by_form, by_service, by_import]


# What is known of the number before the report --------------------------------------------


def open_case_here(*, clerk, office, **_):
    register_case(clerk=clerk, office=office, applicant=ApplicantFactory.build(**PERSON))


def finished_here_under_another_name(*, clerk, supervisor, office, **_):
    applicant = ApplicantFactory.build(**{**PERSON, "name": "张大伟"})
    case = reissued_case(clerk=clerk, office=office, applicant=applicant)
    services.case_close(case=case, acting_user=supervisor)


def finished_here(*, clerk, supervisor, office, **_):
    applicant = ApplicantFactory.build(**{**PERSON, "phone": "13000000000"})
    case = reissued_case(clerk=clerk, office=office, applicant=applicant)
    services.case_close(case=case, acting_user=supervisor)


def open_case_elsewhere(*, other_clerk, other_office, **_):
    register_case(
        clerk=other_clerk, office=other_office, applicant=ApplicantFactory.build(**PERSON)
    )


def finished_elsewhere_under_another_name(*, other_clerk, other_supervisor, other_office, **_):
    applicant = ApplicantFactory.build(**{**PERSON, "name": "张大伟"})
    case = reissued_case(clerk=other_clerk, office=other_office, applicant=applicant)
    services.case_close(case=case, acting_user=other_supervisor)


def finished_here_open_elsewhere(*, other_clerk, other_office, **people):
    finished_here(**people)
    applicant = Applicant.objects.get()
    register_case(clerk=other_clerk, office=other_office, applicant=applicant)


def nothing(**_):
    pass


TOMORROW = timezone.localdate() + datetime.timedelta(days=1)
BORN_1990 = compose_id_number("110101", datetime.date(1990, 1, 1), 123)
# A number whose check character is X, typed in lower case.
WITH_X = next(
    number.lower()
    for order in range(1000)
    if (number := compose_id_number("110105", datetime.date(1990, 3, 7), order)).endswith("X")
)
AGENT = {"agent_acts": True, "agent_name": "李四", "agent_id_number": BORN_1990}
REFUSED = [
    # what is known of the number, the person as given, the report as given, what is refused
    pytest.param(
        nothing,
        {"id_number": ZHANG_WEI[:-1] + "4"},
        {},
        {"id_number": ["The check character"]},
        id="id-number-check-character",
    ),
    pytest.param(
        nothing,
        {"id_number": ZHANG_WEI[:-1]},
        {},
        {"id_number": ["An ID number has 18"]},
        id="id-number-length",
    ),
    pytest.param(
        nothing,
        {"id_number": "110101198013171233"},
        {},
        {"id_number": ["The birth date in"]},
        id="id-number-birth-date",
    ),
    pytest.param(
        nothing,
        {"name": "张" * 51},
        {},
        {"name": ["Ensure this value has at most 50"]},
        id="name-length",
    ),
    pytest.param(
        nothing,
        {"phone": "call me"},
        {},
        {"phone": ["Enter a phone number of digits"]},
        id="phone",
    ),
    pytest.param(
        nothing,
        {},
        {"loss_date": TOMORROW},
        {"loss_date": ["cannot be in the future"]},
        id="loss-in-the-future",
    ),
    pytest.param(
        nothing,
        {},
        {"loss_date": datetime.date(1983, 12, 31)},
        {"loss_date": ["cannot be before 1984-01-01"]},
        id="loss-before-1984",
    ),
    pytest.param(
        nothing,
        {"id_number": BORN_1990},
        {"loss_date": datetime.date(1989, 12, 31)},
        {"loss_date": ["before the applicant's birth date (1990-01-01)"]},
        id="loss-before-birth",
    ),
    pytest.param(
        nothing,
        {},
        {**AGENT, "agent_name": ""},
        {"agent_name": ["give the agent's name"]},
        id="agent-name",
    ),
    pytest.param(
        nothing,
        {},
        {**AGENT, "agent_id_number": ""},
        {"agent_id_number": ["give the agent's ID number"]},
        id="agent-id-number-missing",
    ),
    pytest.param(
        nothing,
        {},
        {**AGENT, "agent_id_number": ZHANG_WEI[:-1] + "4"},
        {"agent_id_number": ["The check character"]},
        id="agent-id-number-check-character",
    ),
    pytest.param(open_case_here, {}, {}, {"id_number": [OPEN_CASE]}, id="open-case-here"),
    pytest.param(
        finished_here_under_another_name, {}, {}, {"name": [OTHER_NAME]}, id="another-name-here"
    ),
    # Of another office's applicant, one answer whatever the reason (the import told the
    # open case and the name it is registered under).
    pytest.param(open_case_elsewhere, {}, {}, {"id_number": [NOT_HERE]}, id="open-case-elsewhere"),
    pytest.param(
        finished_elsewhere_under_another_name,
        {},
        {},
        {"id_number": [NOT_HERE]},
        id="another-name-elsewhere",
    ),
    pytest.param(
        finished_here_open_elsewhere,
        {},
        {},
        {"id_number": [NOT_HERE]},
        id="finished-here-open-elsewhere",
    ),
]
ACCEPTED = [
    pytest.param(nothing, {}, {}, id="new-applicant"),
    pytest.param(
        nothing,
        {"id_number": WITH_X},
        {"loss_date": datetime.date(1990, 3, 7)},
        id="lower-case-x-lost-on-the-birthday",
    ),
    pytest.param(finished_here, {"name": " 张伟 "}, {}, id="known-applicant-new-phone"),
    pytest.param(nothing, {}, AGENT, id="agent"),
]


@pytest.fixture
def people(clerk, supervisor, office, other_clerk, other_supervisor, other_office):
    return {
        "clerk": clerk,
        "supervisor": supervisor,
        "office": office,
        "other_clerk": other_clerk,
        "other_supervisor": other_supervisor,
        "other_office": other_office,
    }


def refusals(way_in, people, person, report) -> dict[str, list[str]]:
    # The supervisor registers at the counter and imports files alike.
    person, report = {**PERSON, **person}, {**REPORT, **report}
    return way_in(people["supervisor"], people["office"], person, report)


@pytest.mark.parametrize("way_in", WAYS_IN, ids=lambda way: way.__name__)
@pytest.mark.parametrize(("known", "person", "report", "expected"), REFUSED)
def test_a_report_one_way_refuses_every_way_refuses_with_the_same_message(
    people, way_in, known, person, report, expected
):
    known(**people)
    found = refusals(way_in, people, person, report)
    assert list(found) == list(expected), found
    for field, beginnings in expected.items():
        assert len(found[field]) == len(beginnings), found
        for message, words in zip(found[field], beginnings, strict=True):
            assert words in message, found


@pytest.mark.parametrize("way_in", WAYS_IN, ids=lambda way: way.__name__)
@pytest.mark.parametrize(("known", "person", "report"), ACCEPTED)
def test_a_report_one_way_accepts_every_way_accepts(people, way_in, known, person, report):
    known(**people)
    assert refusals(way_in, people, person, report) == {}


@pytest.mark.parametrize("way_in", WAYS_IN, ids=lambda way: way.__name__)
def test_a_rule_changed_in_one_place_is_seen_every_way_in(people, way_in, monkeypatch):
    monkeypatch.setattr(models, "EARLIEST_LOSS_DATE", datetime.date(2024, 6, 1))
    monkeypatch.setitem(registration.MESSAGES, registration.NOT_HERE, "Ask the supervisor.")
    open_case_elsewhere(**people)
    assert refusals(way_in, people, {}, {}) == {
        "loss_date": [
            "The date of loss cannot be before 2024-06-01, when the first ID cards were issued."
        ],
        "id_number": ["Ask the supervisor."],
    }


def test_the_known_numbers_of_a_batch_are_read_in_four_queries(people, django_assert_num_queries):
    open_case_here(**people)
    others = [compose_id_number("110101", datetime.date(1970, 1, 1), n) for n in range(999)]
    people["supervisor"].has_perm("reissue.add_reissuecase")  # read once a request
    office_ids_visible_to(people["supervisor"])  # so are the offices seen
    with django_assert_num_queries(4):
        known = registration.known_numbers(
            id_number_hashes=[id_number_digest(n) for n in [ZHANG_WEI, *others]],
            acting_user=people["supervisor"],
        )
    (found,) = known.values()
    assert (found.seen_here, found.open_case, found.open_here) == (True, True, True)


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


@pytest.mark.parametrize(
    ("person", "report"),
    [
        ({}, {}),
        # Text normalized as full_clean normalizes it, an "x" folded, an agent who does not
        # act forgotten, one who acts kept with the number folded.
        (
            {"name": " 张\u200b伟 ", "hukou_address": "北京市  东城区\u00ad幸福路1号"},
            {"agent_name": "王五", "agent_id_number": "11010519491231002x"},
        ),
        ({"id_number": "11010519491231002x"}, {"lost_items": "ss_card"}),
        ({}, {"agent_acts": True, "agent_name": " 王\u200b五 ", "agent_id_number": ZHANG_WEI}),
    ],
)
def test_a_report_whose_cells_were_checked_is_built_as_the_full_check_builds_it(
    clerk, office, person, report
):
    # The import's write pass (`cells_checked`) writes exactly what the full check would.
    reported_at = timezone.now()

    def registered(cells_checked: bool):
        case = ReissueCase(office=office, **{**REPORT, **report})
        found = registration.check_registration(
            case=case,
            applicant_fields={**PERSON, **person},
            known=None,
            acting_user=clerk,
            reported_at=reported_at,
            cells_checked=cells_checked,
        )
        return _fields(found.applicant), _fields(case)

    assert registered(cells_checked=True) == registered(cells_checked=False)
