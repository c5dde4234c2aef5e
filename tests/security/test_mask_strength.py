"""A masked ID number must stay a crowd: whatever else a screen shows, at least 10,000 numbers
fit what a user without the full-view right sees of it.

`candidates_left(text, number)` reads a page (or an export, or JSON) as an attacker would:
the characters of every masked form of the number, the birth date in any common format, the
birth year, the sex. It then counts exactly the valid numbers (GB 11643: real birth dates
1880 to today, any order code, the check character) consistent with all of it. The region is
taken as known whatever the page shows: the hukou address names it.
"""

import datetime
import json
import re
from functools import cache

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from claims import services as claim_services
from claims.resources import ExpenseClaimResource
from common.id_numbers import compose_id_number
from reissue import services
from reissue.models import Applicant
from reissue.resources import CaseResource
from tests.exports.conftest import export
from tests.factories import (
    PolicyFactory,
    UserFactory,
    claim_with_items,
    register_case,
    reissued_case,
    valid_id_number,
)

MINIMUM_CANDIDATES = 10_000
WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
CHECK_CHARACTERS = "10X98765432"  # the check character of S mod 11 = 0, 1, 2, ...
EARLIEST_BIRTH = datetime.date(1880, 1, 1)


def _masked_forms(text: str, number: str) -> list[str]:
    """Return every 18-character run of digits, X and * in `text` that fits `number`."""
    forms = []
    for match in re.finditer(r"(?<![0-9Xx*])[0-9Xx*]{18}(?![0-9Xx*])", text):
        form = match.group().upper()
        if all(c == "*" or c == d for c, d in zip(form, number, strict=True)):
            forms.append(form)
    return forms


def _date_spellings(day: datetime.date) -> list[str]:
    return [
        day.isoformat(),
        f"{day:%Y%m%d}",
        f"{day.year}年{day.month}月{day.day}日",
        f"{day:%d/%m/%Y}",
        f"{day:%Y/%m/%d}",
        f"{day.year}/{day.month}/{day.day}",
        f"{day:%B} {day.day}, {day.year}",  # Django's English DATE_FORMAT "N j, Y"
        f"{day:%b}. {day.day}, {day.year}",
        f"{day:%b} {day.day}, {day.year}",
    ]


def _sex_shown(text: str) -> bool:
    return bool(re.search(r"\b(sex|male|female)\b|性别", text, re.IGNORECASE))


@cache
def _order_histograms(order_pattern: str, parity: int | None) -> tuple[int, ...]:
    """Count the order codes fitting `order_pattern` (* hidden), by their share of S mod 11."""
    counts = [0] * 11
    for order in range(1000):
        digits = f"{order:03d}"
        if any(c not in ("*", d) for c, d in zip(order_pattern, digits, strict=True)):
            continue
        if parity is not None and order % 2 != parity:
            continue
        counts[sum(int(d) * w for d, w in zip(digits, WEIGHTS[14:17], strict=True)) % 11] += 1
    return tuple(counts)


def count_numbers(
    *,
    region: str,
    known: str,
    birth_date: datetime.date | None,
    birth_year: int | None,
    parity: int | None,
) -> int:
    """Count the valid ID numbers of `region` whose characters fit `known` (* hidden)."""
    histogram = _order_histograms(known[14:17], parity)
    residues = _birth_date_residues(known[6:14], birth_date, birth_year)
    region_sum = sum(int(d) * w for d, w in zip(region, WEIGHTS[:6], strict=True))
    checks = [known[17]] if known[17] != "*" else list(CHECK_CHARACTERS)
    return sum(
        days * histogram[(CHECK_CHARACTERS.index(check) - region_sum - residue) % 11]
        for residue, days in enumerate(residues)
        for check in checks
    )


@cache
def _birth_date_residues(
    pattern: str, birth_date: datetime.date | None, birth_year: int | None
) -> tuple[int, ...]:
    """Count the birth dates fitting `pattern` (* hidden), by their share of S mod 11."""
    today = timezone.localdate()
    if birth_date is not None:
        days = [birth_date]
    else:
        start = datetime.date(birth_year, 1, 1) if birth_year else EARLIEST_BIRTH
        end = min(datetime.date(birth_year, 12, 31), today) if birth_year else today
        days = (start + datetime.timedelta(n) for n in range((end - start).days + 1))
    counts = [0] * 11
    for day in days:
        digits = f"{day:%Y%m%d}"
        if any(c not in ("*", d) for c, d in zip(pattern, digits, strict=True)):
            continue
        counts[sum(int(d) * w for d, w in zip(digits, WEIGHTS[6:14], strict=True)) % 11] += 1
    return tuple(counts)


def candidates_left(text: str, number: str) -> int:
    """Return how many ID numbers fit what `text` shows of `number` (1: it is given away)."""
    if number in text.upper():
        return 1
    known = list("*" * 18)
    for form in _masked_forms(text, number):
        known = [f if f != "*" else k for f, k in zip(form, known, strict=True)]
    birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    date_shown = any(spelling in text for spelling in _date_spellings(birth))
    year_shown = re.search(rf"(?<!\d){birth.year}(?!\d)", text) is not None
    return count_numbers(
        region=number[:6],
        known="".join(known),
        birth_date=birth if date_shown else None,
        birth_year=birth.year if year_shown else None,
        parity=int(number[16]) % 2 if _sex_shown(text) else None,
    )


# The counter itself ----------------------------------------------------------------------------


def test_the_old_mask_with_the_birth_date_beside_it_gives_the_number_away():
    number = compose_id_number("110101", datetime.date(1990, 5, 17), 124)
    old_mask = number[:6] + "*" * 8 + number[-4:]
    assert candidates_left(f"{old_mask} 1990-05-17", number) == 1
    assert candidates_left(f"{old_mask} 1990年5月17日 男", number) == 1
    assert 3_000 < candidates_left(old_mask, number) < 10_000  # the reviewer's "about 4,200"


def test_the_mask_leaves_millions_and_a_known_birth_year_tens_of_thousands():
    number = compose_id_number("110101", datetime.date(1990, 5, 17), 124)
    masked = number[:6] + "*" * 11 + number[-1:]
    assert candidates_left(masked, number) > 4_000_000
    assert 30_000 < candidates_left(f"{masked} born 1990", number) < 36_000
    assert candidates_left(f"{masked} 19900517", number) < 100


# Every screen a clerk or a reviewer reaches ----------------------------------------------------


@pytest.fixture
def decided_case(clerk, reviewer, office):
    PolicyFactory(office=office)
    case = reissued_case(clerk=clerk, office=office)
    claim = claim_with_items(case=case, clerk=clerk, amounts=("300.00",), submit=True)
    claim_services.claim_approve(claim=claim, acting_user=reviewer, reason="ok")
    return case


@pytest.fixture
def open_case(clerk, office):
    # An edit puts the agent's masked number into the audit trail too.
    case = register_case(clerk=clerk, office=office)
    return services.case_update(
        case=case,
        acting_user=clerk,
        data={
            "agent_acts": True,
            "agent_name": "李四",
            "agent_id_number": valid_id_number(907, region="310101"),
        },
    )


def _pages(case) -> list[str]:
    applicant = case.applicant
    pages = [
        reverse("admin:reissue_reissuecase_changelist"),
        reverse("admin:reissue_reissuecase_change", args=[case.pk]),
        reverse("admin:reissue_reissuecase_slip", args=[case.pk]),
        reverse("admin:reissue_reissuecase_history", args=[case.pk]),
        reverse("admin:reissue_applicant_history", args=[applicant.pk]),
        reverse("admin:reissue_applicant_changelist"),
        reverse("admin:reissue_applicant_change", args=[applicant.pk]),
        reverse("admin:audit_auditentry_changelist"),
        reverse("admin:index"),
        reverse("admin:autocomplete")
        + f"?app_label=claims&model_name=expenseclaim&field_name=case&term={applicant.name}",
    ]
    claim = getattr(case, "expense_claim", None)
    if claim is not None:
        pages += [
            reverse("admin:claims_expenseclaim_changelist"),
            reverse("admin:claims_expenseclaim_change", args=[claim.pk]),
            reverse("admin:claims_expenseclaim_notice", args=[claim.pk]),
        ]
    return pages


def _seen(client, url: str, language: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code in (200, 403, 404), url
    text = response.content.decode()
    if response.get("Content-Type", "").startswith("application/json"):
        text = json.dumps(json.loads(text), ensure_ascii=False)
    return text


@pytest.mark.parametrize("role", ["clerk", "reviewer"])
def test_no_screen_narrows_an_id_number_below_ten_thousand(
    client, request, role, decided_case, open_case
):
    client.force_login(request.getfixturevalue(role))
    for case in (decided_case, open_case):
        numbers = [case.applicant.id_number, case.agent_id_number]
        for url in _pages(case):
            for language in ("zh-hans", "en"):
                text = _seen(client, url, language)
                for number in filter(None, numbers):
                    left = candidates_left(text, number)
                    assert left >= MINIMUM_CANDIDATES, (url, language, left)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_export_without_the_full_view_right_narrows_no_number(client, office, decided_case, fmt):
    exporter = UserFactory(username="exporter", offices=[office])
    exporter.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_reissuecase", "export_cases", "view_expenseclaim", "export_claims"]
        )
    )
    client.force_login(exporter)
    number = decided_case.applicant.id_number
    for admin_name, resource in (
        ("reissue_reissuecase", CaseResource),
        ("claims_expenseclaim", ExpenseClaimResource),
    ):
        response = export(client, admin_name, resource, fmt)
        assert response.status_code == 200, admin_name
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode("utf-8-sig")
        assert number[:6] in text  # the export did hold the row
        assert candidates_left(text, number) >= MINIMUM_CANDIDATES, admin_name


def test_the_applicant_record_still_knows_its_birth_date(decided_case):
    # Kept for the rules that need it, only never shown beside a masked number.
    applicant = Applicant.objects.get(pk=decided_case.applicant.pk)
    assert applicant.birth_date.strftime("%Y%m%d") == applicant.id_number[6:14]
