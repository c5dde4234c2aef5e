"""Printed pages: a long decision notice names the case on every A5 page; a slip fits one."""

import datetime
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from claims import services as claim_services
from tests.factories import PolicyFactory, register_case, reissued_case

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def pdf_pages(pdf: bytes) -> list[str]:
    """Return the text of each page of a PDF (poppler's pdftotext; `.ci/run` installs it)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is missing: apt-get install poppler-utils (.ci/run does)")
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    return [page for page in text.split("\f") if page.strip()]


def test_a_long_notice_carries_the_reference_and_page_number_on_every_page(
    open_counter, office, clerk, reviewer
):
    PolicyFactory(office=office)
    case = reissued_case(clerk=clerk, office=office)
    claim = claim_services.claim_start(case=case, acting_user=clerk)
    for number in range(14):
        claim_services.claim_add_item(
            claim=claim,
            acting_user=clerk,
            provider="首都医科大学附属北京同仁医院（东区）",
            visit_date=min(case.loss_date + datetime.timedelta(days=number), timezone.localdate()),
            receipt_number=f"RCPT-2026-{number:04d}",
            category="outpatient",
            amount=Decimal("123.45"),
        )
    claim_services.claim_submit(claim=claim, acting_user=clerk)
    claim = claim_services.claim_approve(claim=claim, acting_user=reviewer)

    desk = open_counter("zh-hans", "clerk")
    desk.log_in("clerk")
    desk.page.goto(reverse("admin:claims_expenseclaim_notice", args=[claim.pk]))
    pages = pdf_pages(desk.page.pdf(prefer_css_page_size=True))
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert case.reference in text, f"page {number} has no reference"
        assert re.search(rf"\b{number}\s*/\s*{len(pages)}\b", text), f"page {number}: no number"


def test_the_slip_prints_the_offices_phone_and_still_fits_one_page(open_counter, office, clerk):
    office.phone, office.opening_hours = "010-6512 3456", "周一至周五 8:30–17:00"
    office.save()
    case = register_case(clerk=clerk, office=office, presented_hukou_book=True)
    desk = open_counter("zh-hans", "clerk")
    desk.log_in("clerk")
    desk.page.goto(reverse("admin:reissue_reissuecase_slip", args=[case.pk]))
    pages = pdf_pages(desk.page.pdf(prefer_css_page_size=True))
    assert len(pages) == 1
    assert "010-6512 3456" in pages[0] and case.reference in pages[0]
