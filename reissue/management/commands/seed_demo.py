"""Create demo offices, one user per role and office, and about 50 cases in every state.

Demo only: the passwords are printed and documented. Running it again changes nothing.
"""

import datetime
import random
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from claims import services as claim_services
from claims.models import ExpenseCategory, ReimbursementPolicy
from reissue import services
from reissue.id_numbers import compose_id_number
from reissue.models import LossKind, LostItems, Office, ReissueCase
from twofactor.demo import demo_device_give, demo_secret
from twofactor.policy import otp_required

DEMO_PASSWORD = "demo-Reissue-2026"
OFFICES = [("DC", "东城区社保经办处", "110101"), ("PD", "浦东新区社保中心", "310115")]
ROLES = ["Clerk", "Reviewer", "Supervisor", "Auditor"]
CASES_PER_OFFICE = 25
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
HOSPITALS = [
    "北京协和医院",
    "北京大学第一医院",
    "复旦大学附属华山医院",
    "同仁堂药店",
    "社区卫生服务中心",
]
GIVEN_NAMES = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟"]
# Where each demo case stops: cycles through every state the workflow reaches without a claim.
TARGETS = [
    "reported",
    "temp_card_issued",
    "id_reissued",
    "ss_card_reissued",
    "closed",
    "cancelled",
    "reimbursed",
]
# Expense claims of the cases waiting at `ss_card_reissued`, in turn.
CLAIM_STATES = ["draft", "submitted", "approved", "rejected"]


class Command(BaseCommand):
    help = "Create demo offices, users (one per role and office) and cases. Demo only."

    def handle(self, *args, **options):
        with transaction.atomic():
            offices = [self._office(code, name) for code, name, _region in OFFICES]
            logins = self._users(offices)
            for office, (_code, _name, region) in zip(offices, OFFICES, strict=True):
                if not office.cases.exists():
                    staff = {
                        role: logins[f"{role.lower()}.{office.code.lower()}"] for role in ROLES
                    }
                    self._policy(office)
                    self._cases(office, region, staff)
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
                    username=f"{role.lower()}.{office.code.lower()}", defaults={"is_staff": True}
                )
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save()
                user.groups.add(Group.objects.get(name=role))
                office.staff.add(user)
                logins[user.username] = user
        return logins

    def _policy(self, office):
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

    def _cases(self, office, region, staff):
        clerk = staff["Clerk"]
        rng = random.Random(office.code)
        waiting = 0
        today = timezone.localdate()
        for number in range(CASES_PER_OFFICE):
            target = TARGETS[number % len(TARGETS)]
            birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(0, 60 * 365))
            lost = rng.choice([LostItems.BOTH, LostItems.BOTH, LostItems.SS_CARD])
            case = services.case_register(
                case=ReissueCase(
                    office=office,
                    lost_items=lost,
                    loss_kind=rng.choice(LossKind.values),
                    loss_date=today - datetime.timedelta(days=rng.randrange(1, 30)),
                    presented_hukou_book=True,
                    presented_id_card=lost == LostItems.SS_CARD,
                ),
                applicant_fields={
                    "name": rng.choice(SURNAMES) + "".join(rng.sample(GIVEN_NAMES, 2)),
                    "id_number": compose_id_number(region, birth, 100 + number),
                    "phone": f"13{rng.randrange(100000000, 999999999)}",
                    "hukou_address": f"{office.name[:3]}幸福路{number + 1}号",
                    "hukou_police_station": f"{office.name[:3]}派出所",
                },
                acting_user=clerk,
            )
            case = self._advance(case, target, clerk=clerk, supervisor=staff["Supervisor"])
            if target == "reimbursed":
                self._claim(case, "paid", staff, rng)
            elif target == "ss_card_reissued":
                self._claim(case, CLAIM_STATES[waiting % len(CLAIM_STATES)], staff, rng)
                waiting += 1

    def _claim(self, case, state, staff, rng):
        claim = claim_services.claim_start(case=case, acting_user=staff["Clerk"])
        for visit in range(rng.randrange(1, 4)):
            claim_services.claim_add_item(
                claim=claim,
                acting_user=staff["Clerk"],
                provider=rng.choice(HOSPITALS),
                # Never in the future: a receipt's visit date cannot be (claims.models).
                visit_date=min(
                    case.loss_date + datetime.timedelta(days=visit), timezone.localdate()
                ),
                receipt_number=f"{case.reference}-{visit + 1}",
                category=rng.choice(ExpenseCategory.values),
                amount=Decimal(rng.randrange(3000, 150000)) / 100,
            )
        if state == "draft":
            return
        claim = claim_services.claim_submit(claim=claim, acting_user=staff["Clerk"])
        if state == "rejected":
            claim_services.claim_reject(
                claim=claim, acting_user=staff["Reviewer"], reason="收据非原件"
            )
        elif state in ("approved", "paid"):
            claim = claim_services.claim_approve(claim=claim, acting_user=staff["Reviewer"])
        if state == "paid":
            claim_services.claim_pay(
                claim=claim,
                acting_user=staff["Supervisor"],
                payment_reference=f"PAY-{case.reference}",
            )

    def _advance(self, case, target, *, clerk, supervisor):
        today = timezone.localdate()
        if target == "cancelled":
            return services.case_cancel(
                case=case, acting_user=supervisor, reason="申请人已找回证件"
            )
        if target == "reimbursed":
            target = "ss_card_reissued"  # the payment of its claim takes it the last step
        steps = TARGETS[1 : TARGETS.index(target) + 1]
        for step in steps:
            if step == "temp_card_issued":
                case = services.case_issue_temp_card(
                    case=case, acting_user=clerk, card_number=f"TMP{case.pk:06d}", issued_on=today
                )
            elif step == "id_reissued" and case.id_card_lost:
                case = services.case_record_id_reissued(
                    case=case, acting_user=clerk, issued_on=today
                )
            elif step == "ss_card_reissued":
                case = services.case_reissue_ss_card(
                    case=case,
                    acting_user=clerk,
                    card_number=f"SS{case.office.code}{case.pk:08d}",
                    issued_on=today,
                )
            elif step == "closed":
                case = services.case_close(case=case, acting_user=clerk)
        return case
