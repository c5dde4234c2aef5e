"""Rating a finished case: once per case, a poor one followed up within 15 working days (a
holiday moves the due date), appeals decided by an auditor, forged calls refused."""

import datetime

import pytest
import time_machine
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.chain import verify_chain
from audit.models import AccessKind, AuditEntry, PersonalDataAccess
from common.exceptions import ObjectNotFound, Refusal
from notifications.models import OutboxMessage
from ratings import selectors, services
from ratings.models import AppealDecision, FollowUp, Rating, RatingAction, RatingLevel
from reissue.rating_link import RATING_TOKEN_SALT, LinkStatus, rating_token, read_rating_token
from tests.factories import UserFactory, register_case, reissued_case
from workdays.calendar import start_of_day
from workdays.models import CalendarDay, DayKind

pytestmark = pytest.mark.django_db

ADDRESS = "198.51.100.7"
# A Monday in a year the holiday package knows nothing of: the only holidays are the test's.
MONDAY = datetime.date(2031, 1, 6)


@pytest.fixture
def done_case(clerk, office):
    return reissued_case(clerk=clerk, office=office)


def rate(case, level=RatingLevel.SATISFIED, comment="", address=ADDRESS):
    return services.rating_submit(
        token=rating_token(case), level=level, comment=comment, client_address=address
    )


def poor_rating(case) -> Rating:
    rate(case, RatingLevel.VERY_DISSATISFIED, "等了很久。")
    return Rating.objects.get(case=case)


def test_a_case_is_rated_once_and_the_second_rating_is_refused_politely(done_case):
    first = rate(done_case, RatingLevel.VERY_SATISFIED, "窗口人员很耐心，谢谢！")
    second = rate(done_case, RatingLevel.DISSATISFIED)

    assert first.status is services.PageStatus.THANKS
    assert second.status is services.PageStatus.ALREADY_RATED
    rating = Rating.objects.get(case=done_case)
    assert (rating.level, rating.comment) == (RatingLevel.VERY_SATISFIED, "窗口人员很耐心，谢谢！")
    assert not FollowUp.objects.exists()
    entry = AuditEntry.objects.get(action=RatingAction.RATED)
    assert entry.case == done_case and entry.actor is None


def test_a_rating_locks_the_audit_chain_head_before_the_access_chain_head(done_case):
    # The order card_batches keeps too: the other order deadlocks on PostgreSQL.
    with CaptureQueriesContext(connection) as queries:
        rate(done_case, RatingLevel.DISSATISFIED)
    heads = [
        query["sql"]
        for query in queries.captured_queries
        if 'FROM "audit_chainhead"' in query["sql"]
    ]
    named = [
        ("audit" if "'audit'" in sql else "access" if "'access'" in sql else "?") for sql in heads
    ]
    assert named[:2] == ["audit", "access"]
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in heads[0]


def test_the_database_refuses_a_second_rating_of_a_case(done_case):
    rate(done_case)
    with pytest.raises(IntegrityError):
        Rating.objects.create(
            case=done_case, office=done_case.office, level="satisfied", rated_at=timezone.now()
        )


def test_each_look_and_rating_is_in_the_access_log_without_the_comment(done_case):
    services.rating_page_look(token=rating_token(done_case), client_address=ADDRESS)
    rate(done_case, comment="我的身份证号是110105194912310021")
    looks = PersonalDataAccess.objects.filter(kind=AccessKind.CITIZEN_RATING).order_by("sequence")
    assert [look.case for look in looks] == [done_case, done_case]
    assert all(ADDRESS in look.reason and "110105" not in look.reason for look in looks)
    assert verify_chain(PersonalDataAccess) is None


def test_a_case_still_waiting_for_its_card_cannot_be_rated(clerk, office):
    case = register_case(clerk=clerk, office=office)
    with pytest.raises(ValueError):
        rating_token(case)
    forged = signing.dumps([case.pk, case.reference], salt=RATING_TOKEN_SALT, compress=False)
    assert read_rating_token(forged).status is LinkStatus.INVALID


def test_a_link_is_of_its_own_case_only_and_cannot_be_altered(clerk, office, done_case):
    other = reissued_case(clerk=clerk, office=office)
    # A token signed for one case, with the other's key put in: the signature fails.
    token = rating_token(done_case)
    value = signing.loads(token, salt=RATING_TOKEN_SALT)
    assert value == [done_case.pk, done_case.reference]
    _payload, stamp, signature = token.split(":")
    other_payload = signing.b64_encode(f'[{other.pk},"{other.reference}"]'.encode()).decode()
    swapped = ":".join([other_payload, stamp, signature])
    assert read_rating_token(swapped).status is LinkStatus.INVALID
    # Signed with the other case's key but this case's reference (a leaked secret aside).
    mixed = signing.dumps([other.pk, done_case.reference], salt=RATING_TOKEN_SALT, compress=False)
    assert read_rating_token(mixed).status is LinkStatus.INVALID
    # The temporary card's salt does not open the rating page.
    card_salted = signing.dumps([done_case.pk, done_case.reference], salt="reissue.temp-card-check")
    assert read_rating_token(card_salted).status is LinkStatus.INVALID


def test_a_link_expires_after_its_days(done_case, settings):
    settings.RATING_LINK_MAX_AGE_DAYS = 90
    token = rating_token(done_case)
    later = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(days=91)
    with time_machine.travel(later, tick=False):
        page = services.rating_submit(
            token=token, level="satisfied", comment="", client_address=ADDRESS
        )
    assert page.status is services.PageStatus.EXPIRED
    assert not Rating.objects.exists()


@pytest.mark.parametrize(
    ("comment", "kept"),
    [
        ("  服务很好，效率高！\u0007 ", "服务很好，效率高！"),
        ("第一行\r\n第二行\u202e", "第一行\n第二行"),
        ("\u200b", ""),
    ],
)
def test_a_comment_keeps_full_width_punctuation_and_loses_control_characters(
    done_case, comment, kept
):
    rate(done_case, comment=comment)
    assert Rating.objects.get(case=done_case).comment == kept


def test_an_id_number_or_mobile_typed_in_the_comment_is_kept_masked_in_rating_and_audit(
    done_case,
):
    rate(
        done_case,
        RatingLevel.DISSATISFIED,
        "身份证11010519491231002x，电话13912345678；又：１１０１０５１９４９１２３１００２１。",
    )
    comment = Rating.objects.get(case=done_case).comment
    assert comment == "身份证110105***********X，电话*******5678；又：110105***********1。"
    entry = AuditEntry.objects.get(action=RatingAction.RATED)
    assert entry.comment == comment
    assert "1949" not in entry.comment and "1234" not in entry.comment


def test_an_overlong_comment_or_unknown_level_is_refused_and_nothing_recorded(done_case):
    with pytest.raises(ValidationError) as refused:
        rate(done_case, comment="好" * 501)
    assert "500" in str(refused.value.message_dict["comment"])
    with pytest.raises(ValidationError):
        rate(done_case, level="excellent")
    assert not Rating.objects.exists()


def test_the_rating_sms_goes_once_when_the_card_is_handed_over(done_case, settings):
    settings.PUBLIC_SITE_URL = "https://sbk.example.gov.cn"
    message = OutboxMessage.objects.get(event="rating_invited")
    assert message.subject_id == done_case.pk
    assert "https://sbk.example.gov.cn/public/rate/" not in message.text  # written at the step
    assert "/public/rate/" in message.text and done_case.reference in message.text
    assert done_case.applicant.id_number not in message.text
    token = message.text.rsplit("/public/rate/", 1)[1].rstrip("/")
    assert read_rating_token(token).case == done_case


def test_an_opted_out_citizen_gets_no_rating_sms(clerk, office):
    case = reissued_case(clerk=clerk, office=office, sms_opt_out=True)
    message = OutboxMessage.objects.get(event="rating_invited", subject_id=case.pk)
    assert message.state == "skipped" and message.phone == ""


def test_a_poor_rating_opens_a_follow_up_due_15_working_days_later_past_a_holiday(clerk, office):
    case = reissued_case(clerk=clerk, office=office)
    # Without a holiday: three weeks of weekdays, Monday 6 January to Monday 27 January.
    for day in range(3):  # Wednesday 15 to Friday 17 January off
        CalendarDay.objects.create(
            date=MONDAY + datetime.timedelta(days=9 + day), kind=DayKind.HOLIDAY, name="Invented"
        )
    with time_machine.travel(start_of_day(MONDAY) + datetime.timedelta(hours=10), tick=False):
        rating = poor_rating(case)
    follow_up = rating.follow_up
    assert follow_up.office == office and not follow_up.is_done
    assert follow_up.due_on == datetime.date(2031, 1, 30)  # Thursday: three days later


@pytest.mark.parametrize("level", [RatingLevel.SATISFIED, RatingLevel.FAIRLY_SATISFIED])
def test_a_satisfied_rating_opens_no_follow_up(done_case, level):
    rate(done_case, level)
    assert not FollowUp.objects.exists()


def test_the_supervisor_records_the_outcome_once_audited_and_the_citizen_told(
    done_case, supervisor
):
    follow_up = poor_rating(done_case).follow_up
    services.follow_up_record_outcome(
        follow_up=follow_up, acting_user=supervisor, outcome="已约谈窗口人员，增开一个窗口。"
    )
    follow_up.refresh_from_db()
    assert follow_up.is_done and follow_up.done_by == supervisor
    entry = AuditEntry.objects.get(action=RatingAction.FOLLOW_UP_DONE)
    assert entry.actor == supervisor and entry.case == done_case
    told = OutboxMessage.objects.get(event="follow_up_done")
    assert done_case.reference in told.text
    with pytest.raises(Refusal):
        services.follow_up_record_outcome(
            follow_up=follow_up, acting_user=supervisor, outcome="again"
        )


def test_forged_follow_up_calls_are_refused(done_case, clerk, auditor, other_supervisor):
    follow_up = poor_rating(done_case).follow_up
    for user in (clerk, auditor):  # no such right
        with pytest.raises(Refusal):
            services.follow_up_record_outcome(follow_up=follow_up, acting_user=user, outcome="x")
    with pytest.raises(ObjectNotFound):  # another office's
        services.follow_up_record_outcome(
            follow_up=follow_up, acting_user=other_supervisor, outcome="x"
        )
    follow_up.refresh_from_db()
    assert not follow_up.is_done


def test_an_upheld_appeal_leaves_the_rating_out_of_the_figures(done_case, supervisor, auditor):
    rating = poor_rating(done_case)
    appeal = services.rating_appeal(
        rating=rating, acting_user=supervisor, reason="评价人并非本人，系代办人误评。"
    )
    assert appeal.decision == AppealDecision.PENDING
    with pytest.raises(Refusal):
        services.rating_appeal(rating=rating, acting_user=supervisor, reason="again")

    services.rating_appeal_decide(
        appeal=appeal, acting_user=auditor, upheld=True, note="核实为代办人误评。"
    )
    rating.refresh_from_db()
    appeal.refresh_from_db()
    assert rating.excluded and appeal.decision == AppealDecision.UPHELD
    actions = list(AuditEntry.objects.filter(case=done_case).values_list("action", flat=True))
    assert RatingAction.APPEALED in actions and RatingAction.APPEAL_UPHELD in actions
    with pytest.raises(Refusal):
        services.rating_appeal_decide(appeal=appeal, acting_user=auditor, upheld=False, note="x")


def test_an_upheld_appeal_closes_the_open_follow_up_so_it_is_never_overdue(
    done_case, supervisor, auditor
):
    rating = poor_rating(done_case)
    appeal = services.rating_appeal(rating=rating, acting_user=supervisor, reason="代办人误评。")
    sms_before = OutboxMessage.objects.count()
    services.rating_appeal_decide(appeal=appeal, acting_user=auditor, upheld=True, note="核实。")

    follow_up = FollowUp.objects.get(rating=rating)
    assert follow_up.is_done and follow_up.done_by == auditor
    assert "upheld appeal" in follow_up.outcome
    far_later = follow_up.due_on + datetime.timedelta(days=60)
    assert not FollowUp.objects.filter(selectors.overdue_follow_up_filter(far_later)).exists()
    assert OutboxMessage.objects.count() == sms_before  # the citizen is told of no outcome
    entry = AuditEntry.objects.filter(case=done_case).latest("sequence")
    assert (entry.action, entry.actor) == (RatingAction.FOLLOW_UP_DONE, auditor)
    assert verify_chain(AuditEntry) is None


def test_a_rejected_appeal_keeps_the_rating(done_case, supervisor, auditor):
    appeal = services.rating_appeal(
        rating=poor_rating(done_case), acting_user=supervisor, reason="误评"
    )
    services.rating_appeal_decide(appeal=appeal, acting_user=auditor, upheld=False, note="无证据")
    assert not Rating.objects.get(case=done_case).excluded


def test_forged_appeal_calls_are_refused(done_case, supervisor, clerk, other_supervisor, office):
    rating = poor_rating(done_case)
    with pytest.raises(Refusal):
        services.rating_appeal(rating=rating, acting_user=clerk, reason="x")
    with pytest.raises(ObjectNotFound):
        services.rating_appeal(rating=rating, acting_user=other_supervisor, reason="x")
    with pytest.raises(ValidationError):
        services.rating_appeal(rating=rating, acting_user=supervisor, reason=" \u200b ")
    appeal = services.rating_appeal(rating=rating, acting_user=supervisor, reason="误评")
    # The supervisor may not decide their own office's appeal, nor may a clerk.
    for user in (supervisor, clerk):
        with pytest.raises(Refusal):
            services.rating_appeal_decide(appeal=appeal, acting_user=user, upheld=True, note="x")
    # An auditor who also appealed (four eyes), with both rights given by hand.
    both = UserFactory(role="Auditor", offices=[office])
    both.groups.add(*supervisor.groups.all())
    own = services.rating_appeal(
        rating=poor_rating(reissued_case(clerk=clerk, office=office)), acting_user=both, reason="x"
    )
    with pytest.raises(Refusal):
        services.rating_appeal_decide(appeal=own, acting_user=both, upheld=True, note="x")
    assert not Rating.objects.filter(excluded=True).exists()
