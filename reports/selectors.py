"""Reads behind the supervisor dashboard: every figure is an aggregate computed in the database.

Definitions (also in the README, "Supervisor dashboard"):

- *opened*: a case reported in the period (by `reported_at`, in the bureau's time zone);
- *finished*: a case whose new SS card was issued in the period (by `ss_card_issued_on`) and that
  is now `ss_card_reissued`, `reimbursed` or `closed`: the citizen has the card, which is what the
  bureau promises; a reimbursement may still follow. Cancelled cases are not finished;
- *days to new card*: calendar days from the report's date to `ss_card_issued_on`, over the
  cases finished in the period; the percentiles interpolate linearly (PostgreSQL's
  `percentile_cont`);
- *overdue*: see `reports.calendar`; counted now, over all dates, in the chosen offices;
- *claimed* is the sum of the receipts of claims submitted in the month, *approved* the
  reimbursable total of claims approved in the month (paid ones included), *paid* that of
  claims paid in the month.

Weekly and monthly figures cover the whole weeks (Monday to Sunday) and whole months that the
period touches; counts by state and the days to the new card cover the period's days exactly.
"""

import datetime
import itertools
import math
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DateField,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncDate, TruncMonth, TruncWeek
from django.utils import timezone

from claims.models import ClaimState, ExpenseClaim
from offices.models import Office
from offices.scoping import office_ids_visible_to, offices_visible_to
from ratings.models import POOR_LEVELS, Rating, RatingLevel
from reissue.case_workflow import CASE_WORKFLOW, CaseFlag
from reissue.deadlines import overdue_case_filter
from reissue.models import CaseState, ReissueCase
from workdays.calendar import WorkingCalendar, start_of_day

from .models import DAY, WEEK, CardDay, CaseDay, ClaimDay

OVERDUE_LIST_LENGTH = 20


class PercentileCont(Aggregate):
    """PostgreSQL's continuous percentile: the value at `fraction`, interpolated."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, *, fraction: float, **extra):
        fraction = float(fraction)  # inlined in the SQL: a number, never text
        if not 0 <= fraction <= 1:
            raise ValueError("A percentile fraction lies between 0 and 1.")
        super().__init__(expression, fraction=repr(fraction), **extra)


class DaysBetween(Func):
    """Whole calendar days from one date to a later one, as an integer."""

    output_field = FloatField()
    arity = 2

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="(%(expressions)s)", arg_joiner=" - ")

    def as_sqlite(self, compiler, connection, **extra):
        template = "CAST(JULIANDAY(%(expressions)s) AS INTEGER)"
        return self.as_sql(compiler, connection, template=template, arg_joiner=") - JULIANDAY(")

    def __init__(self, start, end, **extra):
        # SQL subtracts the first from the second: end - start.
        super().__init__(end, start, **extra)


@dataclass(frozen=True)
class Period:
    """The dashboard's period, both ends included, and the offices it covers."""

    date_from: datetime.date
    date_to: datetime.date

    @property
    def first_week(self) -> datetime.date:
        return self.date_from - datetime.timedelta(days=self.date_from.weekday())

    @property
    def last_week(self) -> datetime.date:
        return self.date_to - datetime.timedelta(days=self.date_to.weekday())

    @property
    def first_month(self) -> datetime.date:
        return self.date_from.replace(day=1)

    @property
    def last_month(self) -> datetime.date:
        return self.date_to.replace(day=1)


@dataclass(frozen=True)
class WeekRow:
    week: datetime.date  # its Monday
    opened: int
    finished: int


@dataclass(frozen=True)
class StateRow:
    state: str
    label: str
    count: int


@dataclass(frozen=True)
class DaysToCard:
    cases: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class OverdueCase:
    pk: int
    reference: str
    office: str
    state_label: str
    reported_on: datetime.date
    working_days: int


@dataclass(frozen=True)
class MonthRow:
    month: datetime.date  # its first day
    claimed: Decimal
    approved: Decimal
    paid: Decimal


@dataclass
class Dashboard:
    period: Period
    weeks: list[WeekRow]
    states: list[StateRow]
    days_to_card: DaysToCard
    overdue_count: int
    overdue_oldest: list[OverdueCase]
    months: list[MonthRow]


def dashboard_office_ids(*, user, office: Office | None = None) -> list[int] | None:
    """Return the ids of the offices the dashboard counts; None for all (all-office users)."""
    if office is not None:
        return list(offices_visible_to(user).filter(pk=office.pk).values_list("pk", flat=True))
    return office_ids_visible_to(user)


def dashboard_cases(*, office_ids: list[int] | None) -> QuerySet[ReissueCase]:
    """Return the cases of the offices counted.

    The office ids are given as numbers, not as a subquery, so that PostgreSQL plans with the
    office-leading indexes (a subquery made it scan every open case at a million cases).
    """
    cases = ReissueCase.objects.all()
    return cases if office_ids is None else cases.filter(office_id__in=office_ids)


def dashboard_claims(*, office_ids: list[int] | None) -> QuerySet[ExpenseClaim]:
    claims = ExpenseClaim.objects.all()
    return claims if office_ids is None else claims.filter(case__office_id__in=office_ids)


def _reported_between(first: datetime.date, last: datetime.date) -> dict:
    return {
        "reported_at__gte": start_of_day(first),
        "reported_at__lt": start_of_day(last + datetime.timedelta(days=1)),
    }


def _as_date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def _steps(first: datetime.date, last: datetime.date, step) -> list[datetime.date]:
    days, day = [], first
    while day <= last:
        days.append(day)
        day = step(day)
    return days


def _next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def cases_per_week(*, cases: QuerySet[ReissueCase], period: Period) -> list[WeekRow]:
    """Return the cases opened and finished in each week the period touches (two queries)."""
    week_end = period.last_week + datetime.timedelta(days=6)
    opened = (
        cases.filter(**_reported_between(period.first_week, week_end))
        .annotate(week=TruncWeek("reported_at"))
        .values("week")
        .annotate(count=Count("id"))
        .order_by()
    )
    finished = (
        cases.filter(
            state__in=CASE_WORKFLOW.flagged(CaseFlag.NEW_CARD_ISSUED),
            ss_card_issued_on__range=(period.first_week, week_end),
        )
        .annotate(week=TruncWeek("ss_card_issued_on", output_field=DateField()))
        .values("week")
        .annotate(count=Count("id"))
        .order_by()
    )
    opened_by_week = {_as_date(row["week"]): row["count"] for row in opened}
    finished_by_week = {_as_date(row["week"]): row["count"] for row in finished}
    weeks = _steps(period.first_week, period.last_week, lambda d: d + datetime.timedelta(days=7))
    return [
        WeekRow(week, opened_by_week.get(week, 0), finished_by_week.get(week, 0)) for week in weeks
    ]


def cases_by_state(*, cases: QuerySet[ReissueCase], period: Period) -> list[StateRow]:
    """Return how many cases reported in the period are in each state now (one query)."""
    counts = dict(
        cases.filter(**_reported_between(period.date_from, period.date_to))
        .values_list("state")
        .annotate(count=Count("id"))
        .order_by()
    )
    return [StateRow(state, str(label), counts.get(state, 0)) for state, label in CaseState.choices]


def days_to_new_card(*, cases: QuerySet[ReissueCase], period: Period) -> DaysToCard:
    """Return the median and 90th percentile of days from report to new SS card.

    PostgreSQL: one query with percentile_cont. Elsewhere (SQLite): a count, then for each
    percentile the one or two rows around its position, by ORDER BY ... LIMIT 2 OFFSET k, and
    the same linear interpolation; no more than two rows ever reach Python.
    """
    finished = cases.filter(
        state__in=CASE_WORKFLOW.flagged(CaseFlag.NEW_CARD_ISSUED),
        ss_card_issued_on__range=(period.date_from, period.date_to),
    ).annotate(days=DaysBetween(TruncDate("reported_at"), F("ss_card_issued_on")))
    if connection.vendor == "postgresql":
        figures = finished.aggregate(
            cases=Count("id"),
            median=PercentileCont("days", fraction=0.5),
            p90=PercentileCont("days", fraction=0.9),
        )
        return DaysToCard(figures["cases"], figures["median"], figures["p90"])
    total = finished.count()
    return DaysToCard(
        total,
        _percentile_by_offset(finished, total, 0.5),
        _percentile_by_offset(finished, total, 0.9),
    )


def _percentile_by_offset(finished: QuerySet, total: int, fraction: float) -> float | None:
    if total == 0:
        return None
    position = fraction * (total - 1)
    below = math.floor(position)
    values = list(finished.order_by("days").values_list("days", flat=True)[below : below + 2])
    lower = float(values[0])
    upper = float(values[-1])
    return lower + (upper - lower) * (position - below)


def overdue_cases(
    *, cases: QuerySet[ReissueCase], today: datetime.date, limit: int = OVERDUE_LIST_LENGTH
) -> tuple[int, list[OverdueCase]]:
    """Return how many cases are past their service deadline, and the oldest `limit` of them."""
    overdue = cases.filter(overdue_case_filter(today))
    count = overdue.count()
    oldest = list(
        overdue.order_by("reported_at", "id").values_list(
            "pk", "reference", "office__code", "state", "reported_at"
        )[:limit]
    )
    if not oldest:
        return count, []
    first_day = timezone.localdate(oldest[0][4])
    working_days = _working_days_until(today, since=first_day)
    labels = dict(CaseState.choices)
    return count, [
        OverdueCase(
            pk=pk,
            reference=reference,
            office=office,
            state_label=str(labels[state]),
            reported_on=timezone.localdate(reported_at),
            working_days=working_days[timezone.localdate(reported_at)],
        )
        for pk, reference, office, state, reported_at in oldest
    ]


def _working_days_until(today: datetime.date, *, since: datetime.date) -> dict:
    """Return {day: working days after it up to `today`} for each day from `since`: one pass
    over the calendar, not one per case (the oldest overdue case may be years old)."""
    calendar = WorkingCalendar(since, today)
    counts, running, day = {}, 0, today
    while day >= since:
        counts[day] = running
        running += calendar.is_working_day(day)
        day -= datetime.timedelta(days=1)
    return counts


def claim_amounts_per_month(*, claims: QuerySet[ExpenseClaim], period: Period) -> list[MonthRow]:
    """Return the amounts claimed, approved and paid in each month the period touches.

    Two passes over the claims: the receipts of those submitted, by month; and the decided
    ones grouped by the months of their two dates, each total summed under its own condition
    (a subquery per claim for the receipts in this second pass made PostgreSQL's estimate
    high enough to JIT-compile it, which took longer than the query itself).
    """
    since = start_of_day(period.first_month)
    until = start_of_day(_next_month(period.last_month))
    claimed = (
        claims.filter(submitted_at__gte=since, submitted_at__lt=until)
        .annotate(month=TruncMonth("submitted_at"))
        .values("month")
        .annotate(total=Sum("items__amount"))
        .order_by()
    )
    approved = Q(
        state__in=[ClaimState.APPROVED, ClaimState.PAID],
        examined_at__gte=since,
        examined_at__lt=until,
    )
    paid = Q(state=ClaimState.PAID, paid_at__gte=since, paid_at__lt=until)
    decided = (
        claims.filter(approved | paid)
        .annotate(examined_month=TruncMonth("examined_at"), paid_month=TruncMonth("paid_at"))
        .values("examined_month", "paid_month")
        .annotate(
            approved=Sum("reimbursable_total", filter=approved),
            paid=Sum("reimbursable_total", filter=paid),
        )
        .order_by()
    )
    zero = Decimal("0.00")
    months = _steps(period.first_month, period.last_month, _next_month)
    totals = {month: {"claimed": zero, "approved": zero, "paid": zero} for month in months}
    for group in claimed:
        totals[_as_date(group["month"])]["claimed"] += group["total"] or zero
    for group in decided:
        for amount, month in [("approved", "examined_month"), ("paid", "paid_month")]:
            if group[amount] is not None:
                totals[_as_date(group[month])][amount] += group[amount]
    return [MonthRow(month, **totals[month]) for month in months]


# The same figures from the daily aggregates (`reports.daily`): what the dashboard reads. The
# live functions above stay as their definition, and the tests' oracle.


def _days(model, *, office_ids: list[int] | None, first: datetime.date, last: datetime.date):
    rows = model.objects.filter(day__range=(first, last))
    return rows if office_ids is None else rows.filter(office_id__in=office_ids)


def _whole_weeks(period: Period) -> tuple[datetime.date, datetime.date] | None:
    """Return the Mondays of the first and last weeks wholly inside the period, if any."""
    first = period.date_from + datetime.timedelta(days=-period.date_from.weekday() % 7)
    last = period.date_to - datetime.timedelta(days=(period.date_to.weekday() + 1) % 7 + 6)
    return (first, last) if first <= last else None


def _span_rows(model, *, office_ids: list[int] | None, period: Period) -> list[QuerySet]:
    """Return the rows that cover the weeks the period touches (week rows, for the weekly
    figures) and its days exactly (the week rows wholly inside it, and day rows for the days
    at its ends): a year is some 55 weeks and a few days, whatever the number of cases.

    One query per range of days: all offices' rows of a range are read from the covering
    index on (span, day) alone (an index-only scan); the ranges' OR in one query was read
    through the table (in a province of 200 offices, a year's 406,663 rows: 227 ms against
    about 100). The ranges do not overlap, so their sums need no merging.
    """
    rows = (
        model.objects.all()
        if office_ids is None
        else model.objects.filter(office_id__in=office_ids)
    )
    touched = Q(span=WEEK, day__range=(period.first_week, period.last_week))
    inner = _whole_weeks(period)
    if inner is None:
        ranges = [touched, Q(span=DAY, day__range=(period.date_from, period.date_to))]
    else:
        before = Q(span=DAY, day__gte=period.date_from, day__lt=inner[0])
        after = Q(span=DAY, day__gt=inner[1] + datetime.timedelta(days=6), day__lte=period.date_to)
        ranges = [touched, before, after]
    return [rows.filter(days) for days in ranges]


def _in_period(span: str, day: datetime.date, period: Period) -> bool:
    """Whether a row fetched by `_span_rows` counts towards the period's exact days."""
    if span == DAY:
        return True
    inner = _whole_weeks(period)
    return inner is not None and inner[0] <= day <= inner[1]


def daily_case_figures(
    *, office_ids: list[int] | None, period: Period
) -> tuple[list[WeekRow], list[StateRow], DaysToCard]:
    """Return `cases_per_week`, `cases_by_state` and `days_to_new_card` from the daily and
    weekly aggregates (a query per table and range of days: four to six)."""
    opened, finished, states, histogram = {}, {}, {}, {}
    for span, day, state, count in itertools.chain.from_iterable(
        rows.values_list("span", "day", "state").annotate(count=Sum("cases")).order_by()
        for rows in _span_rows(CaseDay, office_ids=office_ids, period=period)
    ):
        day = _as_date(day)
        if span == WEEK:
            opened[day] = opened.get(day, 0) + count
        if _in_period(span, day, period):
            states[state] = states.get(state, 0) + count
    for span, day, days, count in itertools.chain.from_iterable(
        rows.values_list("span", "day", "days").annotate(count=Sum("cases")).order_by()
        for rows in _span_rows(CardDay, office_ids=office_ids, period=period)
    ):
        day = _as_date(day)
        if span == WEEK:
            finished[day] = finished.get(day, 0) + count
        if _in_period(span, day, period):
            histogram[days] = histogram.get(days, 0) + count
    weeks = _steps(period.first_week, period.last_week, lambda d: d + datetime.timedelta(days=7))
    return (
        [WeekRow(week, opened.get(week, 0), finished.get(week, 0)) for week in weeks],
        [StateRow(state, str(label), states.get(state, 0)) for state, label in CaseState.choices],
        _days_to_card_of(histogram),
    )


def _days_to_card_of(histogram: dict[int, int]) -> DaysToCard:
    ranked = [(days, count) for days, count in sorted(histogram.items()) if count]
    total = sum(count for _days, count in ranked)
    return DaysToCard(
        total,
        _percentile_of_histogram(ranked, total, 0.5),
        _percentile_of_histogram(ranked, total, 0.9),
    )


def _percentile_of_histogram(histogram, total: int, fraction: float) -> float | None:
    """Interpolate as percentile_cont does, between the values at positions k and k + 1."""
    if total == 0:
        return None
    position = fraction * (total - 1)
    below = math.floor(position)
    lower = upper = None
    seen = 0
    for days, count in histogram:
        if lower is None and below < seen + count:
            lower = float(days)
        if below + 1 < seen + count:
            upper = float(days)
            break
        seen += count
    upper = lower if upper is None else upper
    return lower + (upper - lower) * (position - below)


def daily_claim_amounts_per_month(
    *, office_ids: list[int] | None, period: Period
) -> list[MonthRow]:
    """Return `claim_amounts_per_month` from the daily aggregates (one query)."""
    last_day = _next_month(period.last_month) - datetime.timedelta(days=1)
    rows = _days(ClaimDay, office_ids=office_ids, first=period.first_month, last=last_day)
    per_day = rows.values_list("day").annotate(
        claimed=Sum("claimed"), approved=Sum("approved"), paid=Sum("paid")
    )
    months = _steps(period.first_month, period.last_month, _next_month)
    fen = {month: [0, 0, 0] for month in months}
    for day, *amounts in per_day.order_by():
        sums = fen[_as_date(day).replace(day=1)]
        for index, amount in enumerate(amounts):
            sums[index] += amount or 0
    cent = Decimal("0.01")
    return [
        MonthRow(month, *(Decimal(amount).scaleb(-2).quantize(cent) for amount in fen[month]))
        for month in months
    ]


def supervisor_dashboard(
    *, user, period: Period, office: Office | None = None, today: datetime.date | None = None
) -> Dashboard:
    """Return every figure of the dashboard for `user`'s offices (or `office`) and `period`.

    Read from the daily aggregates, except the overdue cases: counted live, now, through the
    index of open cases (a deadline passes without any write).
    """
    today = today or timezone.localdate()
    office_ids = dashboard_office_ids(user=user, office=office)
    cases = dashboard_cases(office_ids=office_ids)
    overdue_count, overdue_oldest = overdue_cases(cases=cases, today=today)
    weeks, states, days_to_card = daily_case_figures(office_ids=office_ids, period=period)
    return Dashboard(
        period=period,
        weeks=weeks,
        states=states,
        days_to_card=days_to_card,
        overdue_count=overdue_count,
        overdue_oldest=overdue_oldest,
        months=daily_claim_amounts_per_month(office_ids=office_ids, period=period),
    )


# The citizens' ratings of the service (好差评), per office and month -----------------------
# Self-contained (its own query and template block), beside the dashboard's other figures.


@dataclass(frozen=True)
class RatingMonthRow:
    """One office's ratings made in one month, less those left out by an upheld appeal."""

    office: str
    month: datetime.date  # its first day
    levels: list[int]  # one count per RatingLevel, in its order (非常满意 first)
    total: int
    poor: int  # 不满意 and 非常不满意
    poor_on_time: int  # their follow-up recorded by its due date
    poor_overdue: int  # their follow-up still open past its due date (today)

    @property
    def satisfied_share(self) -> Decimal | None:
        """The share of ratings not poor (满意率), None without ratings."""
        if not self.total:
            return None
        return (Decimal(self.total - self.poor) / self.total).quantize(Decimal("0.001"))


def ratings_per_office_month(
    *, user, period: Period, office: Office | None = None, today: datetime.date | None = None
) -> list[RatingMonthRow]:
    """Return the ratings per office and month the period touches, in one query; only the
    months and offices that have ratings have rows."""
    today = today or timezone.localdate()
    office_ids = dashboard_office_ids(user=user, office=office)
    ratings = Rating.objects.filter(
        excluded=False,
        rated_at__gte=start_of_day(period.first_month),
        rated_at__lt=start_of_day(_next_month(period.last_month)),
    )
    if office_ids is not None:
        ratings = ratings.filter(office_id__in=office_ids)
    poor = Q(level__in=POOR_LEVELS)
    on_time = poor & Q(follow_up_done_on__lte=F("follow_up__due_on"))
    overdue = poor & Q(follow_up__done_at__isnull=True, follow_up__due_on__lt=today)
    groups = (
        ratings.annotate(
            month=TruncMonth("rated_at"), follow_up_done_on=TruncDate("follow_up__done_at")
        )
        .values("office__code", "office__name", "month")
        .annotate(
            **{level.value: Count("pk", filter=Q(level=level)) for level in RatingLevel},
            total=Count("pk"),
            poor=Count("pk", filter=poor),
            poor_on_time=Count("pk", filter=on_time),
            poor_overdue=Count("pk", filter=overdue),
        )
        .order_by("office__code", "month")
    )
    return [
        RatingMonthRow(
            office=f"{group['office__code']} {group['office__name']}",
            month=_as_date(group["month"]),
            levels=[group[level.value] for level in RatingLevel],
            total=group["total"],
            poor=group["poor"],
            poor_on_time=group["poor_on_time"],
            poor_overdue=group["poor_overdue"],
        )
        for group in groups
    ]
