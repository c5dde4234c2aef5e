"""The one-time notice prints with the reference and page number on every A5 page."""

import re

import pytest
from django.urls import reverse

from reissue import services
from reissue.case_workflow import SecondaryDocument
from tests.e2e.test_printing import pdf_pages
from tests.factories import register_case

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_one_time_notice_prints_every_document_and_the_reference_on_each_page(
    open_counter, office, clerk
):
    office.phone, office.opening_hours = "010-6512 3456", "周一至周五 8:30–17:00"
    office.save()
    case = register_case(
        clerk=clerk,
        office=office,
        presented_hukou_book=False,
        converts_ic_card=True,
        agent_acts=True,
        agent_name="李四",
        agent_id_number="11010519491231002X",
    )
    services.case_promise_document(
        case=case,
        acting_user=clerk,
        document=SecondaryDocument.ID_COPY,
        due_on=case.service_due_on,
    )
    desk = open_counter("zh-hans", "clerk")
    desk.log_in("clerk")
    desk.page.goto(reverse("admin:reissue_reissuecase_notice", args=[case.pk]))
    pages = pdf_pages(desk.page.pdf(prefer_css_page_size=True))
    text = "".join(pages)
    for number, page in enumerate(pages, start=1):
        assert case.reference in page, f"page {number} has no reference"
        assert re.search(rf"\b{number}\s*/\s*{len(pages)}\b", page), f"page {number}: no number"
    squeezed = re.sub(r"\s+", "", text)
    for document in ("户口簿", "一寸彩色照片", "代办人本人身份证", "自补交之日起重新计算"):
        assert document in squeezed, document
    assert case.service_due_on.isoformat() in text and "010-6512 3456" in text
    assert case.applicant.id_number not in text
