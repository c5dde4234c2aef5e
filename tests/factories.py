"""Test data. Cases are built by calling the real services, so they hold real states."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from claims import services as claim_services
from claims.models import ExpenseClaim, ReimbursementPolicy
from common.id_numbers import compose_id_number
from offices.models import Office
from reissue import services
from reissue.forms import APPLICANT_FIELDS
from reissue.models import Applicant, LossKind, LostItems, ReissueCase


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Office
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"O{n:02d}")
    name = factory.LazyAttribute(lambda o: f"Office {o.code}")


class UserFactory(factory.django.DjangoModelFactory):
    """A staff user; `role` names a group, `offices` the offices they work in."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True
    password = factory.django.Password("pw")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))

    @factory.post_generation
    def offices(self, create, extracted, **kwargs):
        for office in extracted or []:
            office.staff.add(self)


def valid_id_number(n: int, region: str = "110101") -> str:
    birth = datetime.date(1960, 1, 1) + datetime.timedelta(days=(n * 37) % 20000)
    return compose_id_number(region, birth, n % 1000)


class ApplicantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Applicant

    name = factory.Sequence(lambda n: f"张{n}")
    id_number = factory.Sequence(valid_id_number)
    phone = "13800138000"
    hukou_address = "北京市东城区幸福路1号"
    hukou_police_station = "东城派出所"


def applicant_fields(**overrides) -> dict:
    """Return the registration form's applicant fields of a new, unsaved applicant."""
    applicant = ApplicantFactory.build()
    return {**{name: getattr(applicant, name) for name in APPLICANT_FIELDS}, **overrides}


def register_case(*, clerk, office, applicant=None, **case_fields) -> ReissueCase:
    """Register a case through the service, with sensible report details."""
    fields = {
        "lost_items": LostItems.BOTH,
        "loss_kind": LossKind.LOST,
        "loss_date": timezone.localdate() - datetime.timedelta(days=3),
        "presented_hukou_book": True,
        **case_fields,
    }
    if applicant is not None:
        person = {name: getattr(applicant, name) for name in APPLICANT_FIELDS}
    else:
        person = applicant_fields()
    return services.case_register(
        case=ReissueCase(office=office, **fields), applicant_fields=person, acting_user=clerk
    )


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReimbursementPolicy

    office = factory.SubFactory(OfficeFactory)
    effective_from = datetime.date(2020, 1, 1)
    deductible = Decimal("100.00")
    rate_outpatient = Decimal("0.700")
    rate_inpatient = Decimal("0.900")
    rate_pharmacy = Decimal("0.500")
    cap_per_case = Decimal("5000.00")


def reissued_case(*, clerk, office, **case_fields) -> ReissueCase:
    """Register a case for a lost SS card and take it to `ss_card_reissued`."""
    case = register_case(
        clerk=clerk,
        office=office,
        lost_items=LostItems.SS_CARD,
        presented_id_card=True,
        **case_fields,
    )
    return services.case_reissue_ss_card(
        case=case,
        acting_user=clerk,
        card_number=f"SS-T-{case.pk:06d}",
        issued_on=case.loss_date + datetime.timedelta(days=2),
    )


_receipts = iter(range(1, 10**9))


def claim_with_items(*, case, clerk, amounts=("200.00",), submit=False) -> ExpenseClaim:
    """Open the case's claim and add one outpatient receipt per amount, through the services."""
    claim = claim_services.claim_start(case=case, acting_user=clerk)
    for amount in amounts:
        claim_services.claim_add_item(
            claim=claim,
            acting_user=clerk,
            provider="北京协和医院",
            visit_date=case.loss_date,
            receipt_number=f"R{next(_receipts):08d}",
            category="outpatient",
            amount=Decimal(amount),
        )
    if submit:
        claim = claim_services.claim_submit(claim=claim, acting_user=clerk)
    return claim
