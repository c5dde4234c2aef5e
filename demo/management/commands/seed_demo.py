"""Create demo offices, one user per role and office, and a believable year of cases.

Demo only: the passwords are printed and documented. Running it again changes nothing.

Each case is planned as a citizen lives it (a report on a working day, the temporary card the
same day, the police station's new ID card weeks later, then the SS card, perhaps a claim that
is examined and paid days after), and every step is taken through the services at the moment
it was planned, in time order across all cases (time-machine sets the clock), so the audit
trail, the dashboard and the work queue show a real office: open cases of every age, some
overdue, some cancelled or lifted (the card found again), claims decided and paid on later days.

The two offices run under different city rules (`CasePolicy`): 东城 makes the new SS card at the
counter (即时制卡) at no fee, its temporary loss reports holding 15 days; 浦东 orders it from the
card bank in batches (ordered, produced, arrived, collected), charges a 20 yuan fee waived for
some, and its temporary reports hold 10 working days. Some citizens phone in a temporary loss
report first: most come to make it formal, some let it lapse, one lapses in a few days. A
temporary card is extended once. The clocks run at the end (old cards cancelled, temporary
cards expired, overdue cases flagged), as the scheduled job would have.
"""

import datetime
import heapq
import random
from dataclasses import dataclass, field
from decimal import Decimal

import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from claims import services as claim_services
from claims.models import ExpenseCategory, ExpenseClaim, ReimbursementPolicy
from common.id_numbers import compose_id_number
from offices.models import Office
from ratings import services as rating_services
from ratings.models import Rating
from reissue import services
from reissue.case_policy import CasePolicy
from reissue.case_workflow import Collector, LossReportKind
from reissue.clocks import run_clocks, system_user
from reissue.models import LossKind, LostItems, ReissueCase
from reissue.rating_link import is_rateable, rating_token
from twofactor.demo import demo_device_give, demo_secret
from twofactor.policy import otp_required
from workdays.calendar import start_of_day
from workflow.registry import workflow_for

DEMO_PASSWORD = "demo-Reissue-2026"
OFFICES = [("DC", "东城区社保经办处", "110101"), ("PD", "浦东新区社保中心", "310115")]
# What the slips and notices print for citizens to call and come by.
OFFICE_CONTACTS = {
    "DC": {"phone": "010-6512 3456", "opening_hours": "周一至周五 8:30–17:00"},
    "PD": {"phone": "021-5879 6543", "opening_hours": "周一至周六 9:00–17:00"},
}
ROLES = ["Clerk", "Reviewer", "Supervisor", "Auditor"]
# The city rules of each office (办事规则), in force over the whole demo year.
CASE_POLICIES = {
    "DC": {
        "temporary_report_lapse_days": 15,
        "old_card_cancelled_after_days": 15,
        "card_fee": Decimal("0.00"),
        "instant_issuance": True,
    },
    "PD": {
        "temporary_report_lapse_days": 10,
        "temporary_report_lapse_in_working_days": True,
        "old_card_cancelled_after_days": 30,
        "temp_card_valid_days": 90,
        "service_deadline_working_days": 20,
        "card_fee": Decimal("20.00"),
        "fee_waivers": "最低生活保障对象\n重度残疾人",
        "instant_issuance": False,
    },
}
# Staff names for the documents citizens take home (never a log-in name).
STAFF_NAMES = {
    ("DC", "Clerk"): "王晓红",
    ("DC", "Reviewer"): "李建国",
    ("DC", "Supervisor"): "张丽",
    ("DC", "Auditor"): "赵明",
    ("PD", "Clerk"): "陈静",
    ("PD", "Reviewer"): "周强",
    ("PD", "Supervisor"): "吴敏",
    ("PD", "Auditor"): "孙磊",
}
CASES_PER_OFFICE = 60
LONG_AGO = datetime.timedelta(days=120)
DAYS_OF_HISTORY = 365
# The commonest surnames, weighted roughly by their share of the population.
SURNAMES = {
    "王": 72,
    "李": 71,
    "张": 68,
    "刘": 54,
    "陈": 45,
    "杨": 31,
    "黄": 24,
    "赵": 21,
    "吴": 20,
    "周": 19,
    "徐": 15,
    "孙": 14,
    "马": 13,
    "朱": 12,
    "胡": 11,
    "郭": 11,
    "何": 10,
    "林": 9,
    "罗": 9,
    "高": 9,
}
GIVEN_NAMES = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰文辉建国红梅"
HOSPITALS = [
    "北京协和医院",
    "北京大学第一医院",
    "复旦大学附属华山医院",
    "同仁堂（和平里店）",
    "社区卫生服务中心",
]
STREETS = ["幸福路", "和平里", "光明街", "解放路", "建国门内大街", "世纪大道"]


@dataclass(order=True)
class Step:
    """One planned step of one case: taken at `at`, after every earlier step of every case."""

    at: datetime.datetime
    number: int
    case_number: int = field(compare=False)
    name: str = field(compare=False)  # a step of the case's or its claim's workflow, or other
    of: str = field(compare=False, default="case")  # "case" or "claim"
    options: dict = field(compare=False, default_factory=dict)


class Command(BaseCommand):
    help = "Create demo offices, users (one per role and office) and a year of cases. Demo only."

    def handle(self, *args, **options):
        with transaction.atomic():
            offices = [self._office(code, name) for code, name, _region in OFFICES]
            logins = self._users(offices)
            histories = []
            for office, (_code, _name, region) in zip(offices, OFFICES, strict=True):
                if not office.cases.exists():
                    staff = {
                        role: logins[f"{role.lower()}.{office.code.lower()}"] for role in ROLES
                    }
                    staff["System"] = system_user()
                    self._policy(office)
                    histories.append(OfficeHistory(office, region, staff))
            play(histories)
            if histories:  # the scheduled job's run of today, on the year just played
                run_clocks()
                for history in histories:
                    rate_some_cases(history.office, supervisor=history.staff["Supervisor"])
            # Every demo user, so that OTP_REQUIRED_FOR_ALL_STAFF works in the demo too.
            devices = {name: demo_device_give(user=user) for name, user in logins.items()}
        self.stdout.write(self.style.SUCCESS("Demo logins (demo only, never in production):"))
        for username, user in logins.items():
            line = f"  {username:<16} password: {DEMO_PASSWORD}"
            if otp_required(user):
                device = devices[username]
                secret = demo_secret(device) if device else "(their own authenticator app)"
                line += f"  + one-time code, TOTP secret {secret}"
            self.stdout.write(line)
        if settings.OTP_REQUIRED:
            self.stdout.write(
                "One-time codes: add the secret to an authenticator app, or print the current "
                "code with `python manage.py demo_otp_code supervisor.dc` (demo secrets, public "
                "like the password)."
            )
        else:
            self.stdout.write("Two-factor log-in is off (OTP_REQUIRED=0, development only).")

    def _office(self, code, name):
        office, _created = Office.objects.get_or_create(code=code, defaults={"name": name})
        contacts = {k: v for k, v in OFFICE_CONTACTS[code].items() if not getattr(office, k)}
        if contacts:
            Office.objects.filter(pk=office.pk).update(**contacts)
            office.refresh_from_db()
        return office

    def _users(self, offices):
        User = get_user_model()
        logins = {}
        admin, created = User.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            admin.set_password(DEMO_PASSWORD)
            admin.save()
        logins["admin"] = admin
        for office in offices:
            for role in ROLES:
                user, created = User.objects.get_or_create(
                    username=f"{role.lower()}.{office.code.lower()}",
                    defaults={
                        "is_staff": True,
                        "first_name": STAFF_NAMES.get((office.code, role), ""),
                    },
                )
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save()
                user.groups.add(Group.objects.get(name=role))
                office.staff.add(user)
                logins[user.username] = user
        return logins

    def _policy(self, office):
        CasePolicy.objects.get_or_create(
            office=office,
            effective_from=datetime.date(2024, 1, 1),
            defaults=CASE_POLICIES[office.code],
        )
        ReimbursementPolicy.objects.get_or_create(
            office=office,
            effective_from=datetime.date(2024, 1, 1),
            defaults={
                "deductible": Decimal("200.00"),
                "rate_outpatient": Decimal("0.700"),
                "rate_inpatient": Decimal("0.850"),
                "rate_pharmacy": Decimal("0.600"),
                "cap_per_case": Decimal("8000.00"),
            },
        )


# A few citizens rate their finished case (好差评): one poor rating followed up, one still
# open, the rest satisfied. Rated now, after the year is played, so the audit trail still
# runs forward in time.
DEMO_RATINGS = [
    ("very_satisfied", "窗口工作人员很耐心，办得很快，谢谢！"),
    ("satisfied", ""),
    ("fairly_satisfied", "排队时间有点长。"),
    ("dissatisfied", "新卡领取时被告知还要再跑一趟，希望一次说清楚。"),
    ("very_dissatisfied", "等了很久，没人解释原因。"),
]


def rate_some_cases(office: Office, *, supervisor) -> None:
    """Rate the office's latest finished cases through the public page's service."""
    finished = ReissueCase.objects.filter(
        office=office, ss_card_issued_on__isnull=False, rating__isnull=True
    ).order_by("-ss_card_issued_on", "-pk")
    cases = [case for case in finished if is_rateable(case)][: len(DEMO_RATINGS)]
    for case, (level, comment) in zip(cases, DEMO_RATINGS, strict=False):
        rating_services.rating_submit(
            token=rating_token(case), level=level, comment=comment, client_address="demo"
        )
    first_poor = Rating.objects.filter(office=office, level="dissatisfied").first()
    if first_poor is not None:
        rating_services.follow_up_record_outcome(
            follow_up=first_poor.follow_up,
            acting_user=supervisor,
            outcome="已向市民致歉，并在窗口张贴领卡须知，一次性告知所需材料。",
        )


def play(histories: list["OfficeHistory"]) -> None:
    """Take the planned steps of all offices in time order, each at its moment, and run the
    clocks each night as the scheduled job does (before the first step of each day)."""
    steps = heapq.merge(*(sorted((step, n) for step in h.plan()) for n, h in enumerate(histories)))
    previous = None
    for step, number in steps:
        if previous is not None and timezone.localdate(step.at) > timezone.localdate(previous):
            night = start_of_day(timezone.localdate(step.at)) + datetime.timedelta(hours=1)
            night = min(max(night, previous), step.at) - datetime.timedelta(seconds=1)
            with time_machine.travel(max(night, previous), tick=False):
                run_clocks()
        with time_machine.travel(step.at, tick=False):
            histories[number].take(step)
        previous = step.at


class OfficeHistory:
    """Plan an office's year of cases, then take every step in time order."""

    def __init__(self, office: Office, region: str, staff: dict) -> None:
        self.office, self.region, self.staff = office, region, staff
        self.rng = random.Random(office.code)
        self.now = timezone.now()
        self.cases: dict[int, ReissueCase] = {}
        self.claims: dict[int, object] = {}
        self.steps: list[Step] = []
        self.extended = False

    def plan(self) -> list[Step]:
        for case_number in range(CASES_PER_OFFICE):
            self._plan_case(case_number)
        return self.steps

    def take(self, step: Step) -> None:
        """Take a workflow step through its declared service, by the first role granted it."""
        workflow, objects = self._workflow_and_objects(step.of)
        if not workflow.has_step(step.name):  # registering a case, starting a claim
            getattr(self, f"_take_{step.name}")(step.case_number, **step.options)
            return
        objects[step.case_number] = workflow.service(step.name)(
            **{workflow.service_argument: objects[step.case_number]},
            acting_user=self.staff[workflow.step(step.name).roles[0]],
            **self._inputs(step),
        )

    def _workflow_and_objects(self, of: str) -> tuple:
        if of == "case":
            return workflow_for(ReissueCase), self.cases
        return workflow_for(ExpenseClaim), self.claims

    def _inputs(self, step: Step) -> dict:
        """Return what the counter types into the step's form for this case."""
        code, number, today = self.office.code, step.case_number, timezone.localdate()
        case = self.cases.get(number)
        handed_back = {"temp_card_returned": bool(case and case.temp_card_number)}
        agent = bool(case and case.agent_acts)
        return {
            "issue_temp_card": {"card_number": f"TMP{code}{number:05d}", "issued_on": today},
            "extend_temp_card": {"valid_until": case and case.temp_card_latest_valid_until()},
            "record_id_reissued": {"issued_on": today},
            "reissue_ss_card": {
                "card_number": f"SS{code}{number:08d}",
                "issued_on": today,
                **handed_back,
                **step.options,
            },
            "order_card": {"ordered_on": today, **step.options},
            "record_card_produced": {"card_number": f"SS{code}{number:08d}", "produced_on": today},
            "record_card_arrived": {"arrived_on": today},
            "collect_card": {
                "collected_by": Collector.AGENT if agent else Collector.APPLICANT,
                "collector_name": case and (case.agent_name or case.applicant.name),
                "collector_id_checked": True,
                "collected_on": today,
                **handed_back,
            },
            "cancel": {"reason": "申请人重复登记，撤销本件。"},
            "lift_loss_report": {"reason": "申请人在家中找到社保卡，本人持卡办理解挂。"},
            "approve": {"reason": "票据齐全，同意报销。"},
            "reject": {"reason": "收据非原件，不予报销。"},
            "pay": {"payment_reference": f"PAY-{self.cases[number].reference}"},
        }.get(step.name, {})

    # Planning -----------------------------------------------------------------------------

    def _plan(
        self, case_number: int, at: datetime.datetime, name: str, of: str = "case", **options
    ) -> bool:
        """Add a step if it lies in the past; return whether it does (later ones follow it)."""
        if at >= self.now:
            return False
        self.steps.append(Step(at, len(self.steps), case_number, name, of, options))
        return True

    def _working_moment(self, day: datetime.date) -> datetime.datetime:
        while day.weekday() >= 5:  # the counter is closed at the weekend
            day += datetime.timedelta(days=1)
        minutes = self.rng.randrange(8 * 60 + 30, 17 * 60)
        naive = datetime.datetime.combine(day, datetime.time(minutes // 60, minutes % 60))
        return timezone.make_aware(naive)

    def _later(self, moment: datetime.datetime, low: int, high: int) -> datetime.datetime:
        day = timezone.localdate(moment) + datetime.timedelta(days=self.rng.randint(low, high))
        later = self._working_moment(day)
        return max(later, moment + datetime.timedelta(minutes=5))

    def _plan_case(self, case_number: int) -> None:
        rng = self.rng
        # A steady year, and the last three weeks' cases still on their way.
        days_ago = rng.randrange(DAYS_OF_HISTORY) if rng.random() < 0.7 else rng.randrange(21)
        if case_number >= CASES_PER_OFFICE - 3:
            days_ago = 0  # this morning's citizens: their temporary cards are still to issue
        reported = self._working_moment(
            timezone.localdate(self.now) - datetime.timedelta(days=days_ago)
        )
        if days_ago == 0:  # whatever the hour or the day the demo is made
            reported = self.now - datetime.timedelta(minutes=rng.randint(5, 120))
        lost = rng.choices([LostItems.BOTH, LostItems.SS_CARD], weights=[65, 35])[0]
        # Some phone 12333 first (临时挂失) and come to the counter within days, or never.
        # Whatever the day the demo is made: one temporary report lapses in a few days, and
        # one phoned in six weeks ago was never made formal, so it has lapsed.
        lapses_soon, lapsed = CASES_PER_OFFICE - 4, CASES_PER_OFFICE - 5
        temporary = rng.random() < 0.12 or case_number in (lapses_soon, lapsed)
        if case_number == lapses_soon:
            reported = self.now - datetime.timedelta(days=3)
        elif case_number == lapsed:
            reported = self.now - datetime.timedelta(days=42)
        kind = LossReportKind.TEMPORARY if temporary else LossReportKind.FORMAL
        if not self._plan(case_number, reported, "register", lost=lost, kind=kind):
            return
        if temporary:
            if case_number in (lapses_soon, lapsed) or rng.random() < 0.3:
                return  # left to lapse: the nightly clock lapses it when its time is up
            reported = self._later(reported, 1, 6)
            if not self._plan(case_number, reported, "formalize_loss_report"):
                return
        fate = rng.random()
        if fate < 0.05:
            # The card found again within days (解挂, before the old card is cancelled), or a
            # report made twice.
            step = "lift_loss_report" if fate < 0.03 else "cancel"
            self._plan(case_number, self._later(reported, 1, 10), step)
            return
        if fate < 0.08 or days_ago == 0:
            return  # at the report: the temporary card still to issue (overdue once old)
        temp_card = (
            self._later(reported, 0, 0) if rng.random() < 0.8 else self._later(reported, 1, 2)
        )
        if not self._plan(case_number, temp_card, "issue_temp_card") or fate < 0.12:
            return  # stalled: the citizen never came back with the new ID card
        ready = temp_card
        if lost == LostItems.BOTH:
            # The police station issues the new ID card within 60 days; mostly 2-5 weeks.
            ready = self._later(temp_card, 12, 40)
            if not self.extended and fate >= 0.16 and temp_card < self.now - LONG_AGO:
                # The police are slow: the temporary card is extended first (once an office).
                self.extended = True
                extended = self._later(temp_card, 50, 55)
                if not self._plan(case_number, extended, "extend_temp_card"):
                    return
                ready = self._later(extended, 3, 8)
            if not self._plan(case_number, ready, "record_id_reissued") or fate < 0.16:
                return
        ss_card = self._plan_new_card(case_number, ready)
        if ss_card is None:
            return
        if rng.random() < 0.45:
            self._plan_claim(case_number, ss_card)
        else:
            self._plan(case_number, self._later(ss_card, 0, 10), "close")

    def _plan_new_card(self, case_number: int, ready: datetime.datetime):
        """Plan the new SS card as the office makes it: at the counter, or by the card bank
        (ordered, produced, arrived, collected). Return when it is in the citizen's hands."""
        rng, rules = self.rng, CASE_POLICIES[self.office.code]
        fee = {}
        if rules["card_fee"] and rng.random() < 0.15:
            fee = {
                "fee_charged": Decimal(0),
                "fee_waiver_reason": rng.choice(["最低生活保障对象", "重度残疾人"]),
            }
        if rules["instant_issuance"]:
            ss_card = self._later(ready, 2, 14)
            return ss_card if self._plan(case_number, ss_card, "reissue_ss_card", **fee) else None
        ordered = self._later(ready, 0, 7)
        produced = self._later(ordered, 7, 15)
        arrived = self._later(produced, 1, 4)
        collected = self._later(arrived, 0, 10)
        for moment, name, options in [
            (ordered, "order_card", fee),
            (produced, "record_card_produced", {}),
            (arrived, "record_card_arrived", {}),
            (collected, "collect_card", {}),
        ]:
            if not self._plan(case_number, moment, name, **options):
                return None
        return collected

    def _plan_claim(self, case_number: int, ss_card: datetime.datetime) -> None:
        rng = self.rng
        opened = self._later(ss_card, 0, 5)
        if not self._plan(case_number, opened, "claim_start", receipts=rng.randint(1, 4)):
            return
        submitted = self._later(opened, 0, 3)
        if rng.random() < 0.1 or not self._plan(case_number, submitted, "submit", "claim"):
            return
        decided = self._later(submitted, 2, 10)
        if rng.random() < 0.15:
            if self._plan(case_number, decided, "reject", "claim"):
                self._plan(case_number, self._later(decided, 1, 5), "close")
            return
        if self._plan(case_number, decided, "approve", "claim"):
            self._plan(case_number, self._later(decided, 1, 7), "pay", "claim")

    # Taking the steps, through the services, at the planned moment --------------------------

    def _take_register(self, case_number: int, *, lost: str, kind: str) -> None:
        rng, office = self.rng, self.office
        today = timezone.localdate()
        birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(0, 55 * 365))
        agent = rng.random() < 0.1
        converts = rng.random() < 0.1
        case = services.case_register(
            case=ReissueCase(
                office=office,
                loss_report_kind=kind,
                told_to_report_bank_loss=True,
                lost_items=lost,
                loss_kind=rng.choices(LossKind.values, weights=[80, 15, 5])[0],
                loss_date=today - datetime.timedelta(days=rng.randrange(0, 6)),
                presented_hukou_book=True,
                presented_id_card=lost == LostItems.SS_CARD,
                converts_ic_card=converts,
                presented_photo=converts,
                agent_acts=agent,
                agent_name=self._name() if agent else "",
                agent_id_number=(
                    compose_id_number(
                        self.region,
                        datetime.date(1985, birth.month, min(birth.day, 28)),
                        900 + case_number % 99,
                    )
                    if agent
                    else ""
                ),
            ),
            applicant_fields={
                "name": self._name(),
                "id_number": compose_id_number(self.region, birth, 100 + case_number),
                "phone": f"13{rng.randrange(100000000, 999999999)}",
                "hukou_address": f"{office.name[:3]}{rng.choice(STREETS)}{case_number + 1}号",
                "hukou_police_station": f"{office.name[:3]}{rng.choice('东西南北')}派出所",
            },
            acting_user=self.staff["Clerk"],
        )
        self.cases[case_number] = case

    def _name(self) -> str:
        surname = self.rng.choices(list(SURNAMES), weights=list(SURNAMES.values()))[0]
        return surname + "".join(self.rng.sample(GIVEN_NAMES, self.rng.choice([1, 2, 2])))

    def _take_claim_start(self, case_number: int, *, receipts: int) -> None:
        case, clerk = self.cases[case_number], self.staff["Clerk"]
        claim = claim_services.claim_start(case=case, acting_user=clerk)
        gap_days = max((case.ss_card_issued_on - case.loss_date).days, 0)
        for visit in range(receipts):
            claim_services.claim_add_item(
                claim=claim,
                acting_user=clerk,
                provider=self.rng.choice(HOSPITALS),
                visit_date=case.loss_date + datetime.timedelta(days=self.rng.randint(0, gap_days)),
                receipt_number=f"{case.reference}-{visit + 1}",
                category=self.rng.choice(ExpenseCategory.values),
                amount=Decimal(self.rng.randrange(3000, 150000)) / 100,
            )
        self.claims[case_number] = claim
