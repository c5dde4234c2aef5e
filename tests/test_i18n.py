"""The Chinese interface: the catalogue covers what a clerk reads, and browsers get it."""

import pytest
from django.urls import reverse
from django.utils import translation

from claims.models import ClaimItem, ClaimState, ExpenseCategory, ExpenseClaim
from incidents.models import Incident, IncidentState
from reissue.models import CaseState, LossKind, LostItems, ReissueCase
from workflow.transitions import transition_label

TRANSITIONS = [
    *ReissueCase._meta.get_field("state").get_all_transitions(ReissueCase),
    *ExpenseClaim._meta.get_field("state").get_all_transitions(ExpenseClaim),
    *Incident._meta.get_field("state").get_all_transitions(Incident),
]


def _in_chinese(text) -> str:
    with translation.override("zh-hans"):
        return str(text)


@pytest.mark.parametrize(
    "text",
    [
        *CaseState.labels,
        *LostItems.labels,
        *LossKind.labels,
        ReissueCase._meta.verbose_name,
        ReissueCase._meta.verbose_name_plural,
        *(field.verbose_name for field in ReissueCase._meta.fields if not field.primary_key),
        *ClaimState.labels,
        *ExpenseCategory.labels,
        *(field.verbose_name for field in ExpenseClaim._meta.fields if not field.primary_key),
        *(field.verbose_name for field in ClaimItem._meta.fields if not field.primary_key),
        *IncidentState.labels,
        *(field.verbose_name for field in Incident._meta.fields if not field.primary_key),
    ],
)
def test_model_and_state_names_are_translated(text):
    assert _in_chinese(text) != str(text)


@pytest.mark.parametrize("step", TRANSITIONS, ids=lambda step: f"{step.name}-{step.source}")
def test_transition_names_and_condition_messages_are_translated(step):
    with translation.override("en"):
        english = [transition_label(step), *(c.failure_message for c in step.conditions)]
    with translation.override("zh-hans"):
        chinese = [transition_label(step), *(str(c.failure_message) for c in step.conditions)]
    assert all(zh != str(en) for zh, en in zip(chinese, english, strict=True))


def test_a_browser_asking_for_chinese_gets_chinese(client, clerk):
    client.force_login(clerk)
    page = client.get(
        reverse("admin:reissue_reissuecase_changelist"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9"
    ).content.decode()
    assert "补办案件" in page


def test_a_user_can_switch_to_english(client, clerk):
    client.force_login(clerk)
    client.post(reverse("set_language"), {"language": "en", "next": "/admin/"})
    page = client.get(
        reverse("admin:reissue_reissuecase_changelist"), HTTP_ACCEPT_LANGUAGE="zh-CN"
    ).content.decode()
    assert "Select reissue case to change" in page
