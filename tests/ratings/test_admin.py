"""The ratings in the admin: a supervisor sees their office's follow-ups, overdue ones marked,
records the outcome and appeals on a form; an auditor decides; refusals are messages."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from ratings import services
from ratings.models import AppealDecision, FollowUp, Rating
from reissue.rating_link import rating_token
from reports.selectors import Period, ratings_per_office_month
from tests.counter.test_work_queue import queue_of
from tests.factories import reissued_case

pytestmark = pytest.mark.django_db


def rated(case, level):
    services.rating_submit(
        token=rating_token(case), level=level, comment="", client_address="192.0.2.1"
    )
    return Rating.objects.get(case=case)


@pytest.fixture
def poor(clerk, office):
    return rated(reissued_case(clerk=clerk, office=office), "very_dissatisfied")


def page(client, name, *args, **query):
    response = client.get(reverse(f"admin:{name}", args=args), query)
    return response.status_code, response.content.decode()


def test_a_supervisor_sees_their_offices_follow_ups_only_and_the_overdue_ones(
    client, supervisor, poor, other_office, other_clerk
):
    elsewhere = rated(reissued_case(clerk=other_clerk, office=other_office), "dissatisfied")
    FollowUp.objects.filter(pk=poor.follow_up.pk).update(
        due_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    client.force_login(supervisor)
    status, listed = page(client, "ratings_followup_changelist", state="overdue")
    assert status == 200 and poor.case.reference in listed
    assert elsewhere.case.reference not in listed and "overdue (due" in listed
    status, _ = page(client, "ratings_followup_change", elsewhere.follow_up.pk)
    assert status == 302  # another office's: "not found", back to the list


def test_the_outcome_is_recorded_on_its_form_and_then_offered_no_more(client, supervisor, poor):
    client.force_login(supervisor)
    follow_up = poor.follow_up
    status, shown = page(client, "ratings_followup_change", follow_up.pk)
    outcome_url = reverse("admin:ratings_followup_outcome", args=[follow_up.pk])
    assert outcome_url in shown
    blank = client.post(outcome_url, {"outcome": " "})
    assert blank.status_code == 200 and "errorlist" in blank.content.decode()
    done = client.post(outcome_url, {"outcome": "已向当事人致歉并说明情况。"})
    assert done.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.is_done
    assert outcome_url not in page(client, "ratings_followup_change", follow_up.pk)[1]
    again = client.post(outcome_url, {"outcome": "again"}, follow=True)
    assert "not open on this record" in again.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.outcome == "已向当事人致歉并说明情况。"


def test_appeal_then_decision_by_an_auditor_on_their_forms(client, supervisor, auditor, poor):
    client.force_login(supervisor)
    response = client.post(
        reverse("admin:ratings_rating_appeal", args=[poor.pk]), {"reason": "误评"}
    )
    assert response.status_code == 302
    appeal = poor.__class__.objects.get(pk=poor.pk).appeal
    decide = reverse("admin:ratings_ratingappeal_decide", args=[appeal.pk])
    assert client.post(decide, {"decision": "upheld", "note": "x"}).status_code == 403

    client.force_login(auditor)
    assert decide in page(client, "ratings_ratingappeal_change", appeal.pk)[1]
    assert client.post(decide, {"decision": "rejected", "note": "无证据"}).status_code == 302
    appeal.refresh_from_db()
    assert appeal.decision == AppealDecision.REJECTED


def test_a_decision_raced_by_another_is_a_message_not_an_error(client, auditor, supervisor, poor):
    appeal = services.rating_appeal(rating=poor, acting_user=supervisor, reason="误评")
    client.force_login(auditor)
    decide = reverse("admin:ratings_ratingappeal_decide", args=[appeal.pk])
    form = client.get(decide)
    assert form.status_code == 200
    # Someone else decides meanwhile; the form posted after says so.
    other = type(auditor).objects.create(username="auditor2", is_staff=True)
    other.groups.add(*auditor.groups.all())
    services.rating_appeal_decide(appeal=appeal, acting_user=other, upheld=False, note="x")
    late = client.post(decide, {"decision": "upheld", "note": "y"}, follow=True)
    assert late.status_code == 200 and "not open on this record" in late.content.decode()
    assert not Rating.objects.get(pk=poor.pk).excluded


def test_the_dashboard_counts_ratings_per_office_and_month_less_upheld_appeals(
    client, clerk, office, supervisor, auditor
):
    for level in ["very_satisfied", "satisfied", "fairly_satisfied", "dissatisfied"]:
        rated(reissued_case(clerk=clerk, office=office), level)
    poor = rated(reissued_case(clerk=clerk, office=office), "very_dissatisfied")
    on_time = Rating.objects.get(level="dissatisfied").follow_up
    services.follow_up_record_outcome(follow_up=on_time, acting_user=supervisor, outcome="已整改")
    appeal = services.rating_appeal(rating=poor, acting_user=supervisor, reason="误评")
    services.rating_appeal_decide(appeal=appeal, acting_user=auditor, upheld=True, note="核实")
    today = timezone.localdate()
    period = Period(today - datetime.timedelta(days=1), today)
    [row] = ratings_per_office_month(user=supervisor, period=period, today=today)
    assert row.levels == [1, 1, 1, 1, 0] and row.total == 4
    assert (row.poor, row.poor_on_time, row.poor_overdue) == (1, 1, 0)
    assert str(row.satisfied_share) == "0.750"

    client.force_login(supervisor)
    response = client.get(reverse("admin:reports_supervisordashboard_changelist"))
    shown = response.content.decode()
    assert 'id="dashboard-ratings"' in shown and "75 %" in shown and "very satisfied" in shown


def test_the_staff_see_the_rating_sms_with_its_link_masked_never_a_working_one(
    client, supervisor, clerk, office
):
    from notifications.models import OutboxMessage

    case = reissued_case(clerk=clerk, office=office)
    message = OutboxMessage.objects.get(event="rating_invited", subject_id=case.pk)
    token = message.text.rsplit("/public/rate/", 1)[1].rstrip("/")
    client.force_login(supervisor)

    _status, case_page = page(client, "reissue_reissuecase_change", case.pk)
    _status, sms_list = page(client, "notifications_outboxmessage_changelist", q=case.reference)
    _status, sms_page = page(client, "notifications_outboxmessage_change", message.pk)
    for shown in (case_page, sms_list, sms_page):
        assert "/public/rate/…/" in shown
        assert token not in shown


# The work queue on the admin home ----------------------------------------------------------------


def test_a_supervisor_finds_the_poor_ratings_to_follow_up_in_the_work_queue(
    client, supervisor, other_supervisor, poor
):
    count, link = queue_of(client, supervisor)["follow_ups"]
    assert count == 1
    assert poor.case.reference in client.get(link).content.decode()
    assert queue_of(client, other_supervisor)["follow_ups"][0] == 0  # not their office's
    services.follow_up_record_outcome(
        follow_up=poor.follow_up, acting_user=supervisor, outcome="已向当事人致歉。"
    )
    assert queue_of(client, supervisor)["follow_ups"][0] == 0


def test_an_auditor_finds_the_appeals_to_decide_in_the_work_queue(
    client, supervisor, auditor, poor
):
    assert queue_of(client, auditor)["appeals"][0] == 0
    services.rating_appeal(rating=poor, acting_user=supervisor, reason="评价人并非办事人本人。")
    count, link = queue_of(client, auditor)["appeals"]
    assert count == 1
    assert poor.case.reference in client.get(link).content.decode()
    assert "appeals" not in queue_of(client, supervisor)  # who appeals does not decide
