"""Two clerks on the case screens at once, on PostgreSQL: the loser reads why, never a 500."""

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEntry
from reissue.models import ReissueCase
from tests.factories import register_case
from tests.reissue.test_admin import change_url, step_url
from tests.reissue.test_concurrency import winner_then_loser

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def logged_in(user, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def messages_on(client, url) -> str:
    """Return the page the loser was sent back to, with its message."""
    page = client.get(url)
    assert page.status_code == 200
    return page.content.decode()


def edit_form(case, **changes) -> dict:
    data = {
        "lost_items": case.lost_items,
        "loss_kind": case.loss_kind,
        "loss_date": case.loss_date.isoformat(),
        "presented_hukou_book": "on",
    }
    return {**data, **changes}


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "A finished case can no longer be changed."),
        ("zh-CN", "已结束的案件不能再修改。"),
    ],
)
def test_a_case_edited_while_it_is_cancelled_tells_the_editor(
    clerk, supervisor, office, language, message
):
    case = register_case(clerk=clerk, office=office)
    editor, canceller = logged_in(clerk, language), logged_in(supervisor)

    cancelled, edited = winner_then_loser(
        lambda: canceller.post(step_url(case, "cancel"), {"reason": "the card was found"}),
        lambda: editor.post(change_url(case), edit_form(case, presented_photo="on")),
    )

    assert cancelled.status_code == 302
    assert edited.status_code == 302 and edited.url == change_url(case)  # was a 500
    assert message in messages_on(editor, edited.url)
    case.refresh_from_db()
    assert case.state == "cancelled" and case.presented_photo is False
    assert not AuditEntry.objects.filter(case=case, action="edited").exists()


def test_the_same_new_ss_card_number_on_two_step_pages_is_a_field_error(clerk, office):
    first, second = (
        register_case(clerk=clerk, office=office, lost_items="ss_card", presented_id_card=True)
        for _ in range(2)
    )
    one, other = logged_in(clerk), logged_in(clerk)
    step = {"card_number": "SS-RACE-2", "issued_on": timezone.localdate().isoformat()}

    won, lost = winner_then_loser(
        lambda: one.post(step_url(first, "reissue_ss_card"), step),
        lambda: other.post(step_url(second, "reissue_ss_card"), step),
    )

    assert won.status_code == 302
    assert lost.status_code == 200  # the step page again, with the error by the input
    assert lost.context["form"].errors == {
        "card_number": ["This SS card number was already given to another case."]
    }
    assert ReissueCase.objects.get(pk=second.pk).state == "reported"
    assert ReissueCase.objects.filter(ss_card_number="SS-RACE-2").count() == 1
