"""The one-time notice, the promise and the documents-promised screens pass axe-core."""

import pytest

from reissue import services
from reissue.case_workflow import SecondaryDocument
from tests.e2e.axe import require_axe
from tests.e2e.test_accessibility import case_url, check_screens, report
from tests.factories import register_case

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_documents_screens_have_no_serious_accessibility_violation(
    open_counter, office, clerk, language
):
    require_axe()
    case = register_case(clerk=clerk, office=office, converts_ic_card=True)
    promise = services.case_promise_document(
        case=case,
        acting_user=clerk,
        document=SecondaryDocument.ID_COPY,
        due_on=case.service_due_on,
    )
    desk = open_counter(language, "clerk")
    desk.log_in("clerk")
    found = check_screens(
        desk,
        {
            "case page with a promise": case_url("change", case),
            "one-time notice": case_url("notice", case),
            "accept with a document missing": case_url("promise_add", case),
            "promise": case_url("promise", case, promise.pk),
            "record brought": case_url("promise_received", case, promise.pk),
        },
    )
    assert not found, report(found)
