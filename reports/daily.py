"""The dashboard's daily aggregates, kept exact in the transaction of each write.

Cases and cards are counted per office by day and, in rows of their own, by week (`span`), so
that a year is read as its weeks and the days at its ends; amounts of claims by day.

Every write of a case, a claim or a receipt (a step, a clock step, an edit, a deletion) goes
through `Model.save()`/`delete()`: the signals below read the row's contribution to the
aggregates before and after, from the database (the step has locked the row), and add the
difference with one upsert per table (`... ON CONFLICT DO UPDATE SET n = n + excluded.n`), so
two steps at once never lose an increment and a step rolled back takes its change with it.
The legacy import inserts in bulk and says so with `reissue.signals.cases_inserted`.
`rebuild_daily_aggregates` computes them all again from the rows (a migration and
`manage.py rebuild_dashboard_aggregates`).
"""

import datetime
from collections import Counter
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, F, Sum, Value
from django.db.models.functions import TruncDate
from django.db.models.signals import post_save, pre_delete, pre_save
from django.utils import timezone

from audit.chain import lock_chain_head
from audit.models import AuditEntry
from claims.models import ClaimItem, ClaimState, ExpenseClaim
from reissue.case_workflow import CASE_WORKFLOW, CaseFlag
from reissue.models import ReissueCase
from reissue.signals import cases_inserted

from .models import DAY, WEEK, CardDay, CaseDay, ClaimDay

CASE, CARD, CLAIMED, APPROVED, PAID = "case", "card", "claimed", "approved", "paid"
CASE_FIELDS = {"office", "office_id", "reported_at", "state", "ss_card_issued_on"}
CASE_COLUMNS = ("office", "reported_at", "state", "ss_card_issued_on")  # case_contribution's
CASE_ATTNAMES = {ReissueCase._meta.get_field(name).attname for name in CASE_COLUMNS}
CLAIM_FIELDS = {"state", "submitted_at", "examined_at", "paid_at", "reimbursable_total"}
APPROVED_STATES = (ClaimState.APPROVED, ClaimState.PAID)
ROWS_PER_STATEMENT = 200  # SQLite takes 999 parameters a statement


def issued_states() -> list[str]:
    return CASE_WORKFLOW.flagged(CaseFlag.NEW_CARD_ISSUED)


def local_day(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def fen(amount) -> int:
    return int((Decimal(str(amount or 0)) * 100).to_integral_value())


# Contributions: what one row adds to the aggregates, as a Counter of keys.


def case_contribution(office_id, reported_at, state, card_on) -> Counter:
    """Return what a case adds: itself on its report's day, and its card's day if issued."""
    counts: Counter = Counter()
    if office_id is None or reported_at is None:
        return counts
    reported_on = local_day(reported_at)
    issued = card_on is not None and state in issued_states()
    for span, of in [(DAY, lambda day: day), (WEEK, monday)]:
        counts[(CASE, office_id, span, of(reported_on), state)] += 1
        if issued:
            counts[(CARD, office_id, span, of(card_on), (card_on - reported_on).days)] += 1
    return counts


def claim_contribution(row: dict, *, with_receipts: bool = True) -> Counter:
    """Return what a claim adds: its receipts on the day submitted, its total when decided."""
    counts: Counter = Counter()
    office_id, total = row["case__office_id"], row["reimbursable_total"]
    if row["submitted_at"] is not None and with_receipts:
        counts[(CLAIMED, office_id, DAY, local_day(row["submitted_at"]), None)] += fen(
            row["receipts"]
        )
    if row["state"] in APPROVED_STATES and row["examined_at"] is not None and total is not None:
        counts[(APPROVED, office_id, DAY, local_day(row["examined_at"]), None)] += fen(total)
    if row["state"] == ClaimState.PAID and row["paid_at"] is not None and total is not None:
        counts[(PAID, office_id, DAY, local_day(row["paid_at"]), None)] += fen(total)
    return counts


def stored_case_contribution(pks) -> Counter:
    # Counted by their columns: a file's imported cases share an office, a report's moment
    # and state, a thousand of them one row.
    counts: Counter = Counter()
    rows = (
        ReissueCase.objects.filter(pk__in=pks)
        .order_by()
        .values_list(*CASE_COLUMNS)
        .annotate(cases=Count("pk"))
    )
    for *columns, cases in rows:
        for key, value in case_contribution(*columns).items():
            counts[key] += value * cases
    return counts


def stored_claim_contribution(claims, *, office_id=None, with_receipts=True) -> Counter:
    counts: Counter = Counter()
    rows = claims.values(
        "pk",
        "case__office_id",
        "state",
        "submitted_at",
        "examined_at",
        "paid_at",
        "reimbursable_total",
    ).annotate(receipts=Sum("items__amount"))
    for row in rows:
        if office_id is not None:
            row["case__office_id"] = office_id
        counts.update(claim_contribution(row, with_receipts=with_receipts))
    return counts


def stored_item_contribution(pk) -> Counter:
    row = (
        ClaimItem.objects.filter(pk=pk)
        .values_list("amount", "claim__submitted_at", "claim__case__office_id")
        .first()
    )
    if row is None or row[1] is None:
        return Counter()
    return Counter({(CLAIMED, row[2], DAY, local_day(row[1]), None): fen(row[0])})


# Applying a difference: one upsert per table, keys sorted so concurrent steps lock alike.


def apply_difference(difference: Counter) -> None:
    """Add `difference` to the aggregate tables (in the caller's transaction)."""
    changes = {key: value for key, value in difference.items() if value}
    if not changes:
        return
    if connection.features.has_select_for_update:
        # One lock order for every writer: the audit chain's head, then these rows. Each
        # step locks the head for its audit entry anyway, a moment later; the legacy import
        # takes it at its end (after the offices' sequences, as registration does) and
        # writes these rows under it. Taking it here first, a step and an import can't
        # deadlock.
        lock_chain_head(AuditEntry.CHAIN)
    cases = [(o, sp, d, x, n) for (kind, o, sp, d, x), n in changes.items() if kind == CASE]
    cards = [(o, sp, d, x, n) for (kind, o, sp, d, x), n in changes.items() if kind == CARD]
    money: dict[tuple, list[int]] = {}
    for (kind, office, _span, day, _none), amount in changes.items():
        if kind in (CLAIMED, APPROVED, PAID):
            sums = money.setdefault((office, day), [0, 0, 0])
            sums[(CLAIMED, APPROVED, PAID).index(kind)] += amount
    _upsert(CaseDay, ["office_id", "span", "day", "state"], ["cases"], sorted(cases))
    _upsert(CardDay, ["office_id", "span", "day", "days"], ["cases"], sorted(cards))
    _upsert(
        ClaimDay,
        ["office_id", "day"],
        ["claimed", "approved", "paid"],
        sorted((*key, *sums) for key, sums in money.items()),
    )


def _upsert(model, keys: list[str], sums: list[str], rows: list[tuple]) -> None:
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(c) for c in keys + sums)
    added = ", ".join(f"{quote(c)} = {table}.{quote(c)} + EXCLUDED.{quote(c)}" for c in sums)
    conflict = ", ".join(quote(c) for c in keys)
    day = keys.index("day")
    with connection.cursor() as cursor:
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[start : start + ROWS_PER_STATEMENT]
            values = ", ".join(["(" + ", ".join(["%s"] * len(chunk[0])) + ")"] * len(chunk))
            params = [
                connection.ops.adapt_datefield_value(value) if index == day else value
                for row in chunk
                for index, value in enumerate(row)
            ]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values} "
                f"ON CONFLICT ({conflict}) DO UPDATE SET {added}",
                params,
            )


# The signals: the contribution before the write, then after it.


def _touches(update_fields, fields: set[str]) -> bool:
    return update_fields is None or not fields.isdisjoint(update_fields)


def case_before_save(sender, instance, update_fields=None, **kwargs) -> None:
    instance._daily_before = None
    if not _touches(update_fields, CASE_FIELDS):
        return
    before = Counter()
    if instance.pk is not None:
        before = stored_case_contribution([instance.pk])
    instance._daily_before = before


def saved_case_contribution(instance: ReissueCase) -> Counter:
    """Return what a case just saved whole adds, from its own values (they are the row's)."""
    values = []
    for name in CASE_COLUMNS:
        field = ReissueCase._meta.get_field(name)
        value = field.to_python(getattr(instance, field.attname))
        if isinstance(value, datetime.datetime) and timezone.is_naive(value):
            value = timezone.make_aware(value, timezone.get_default_timezone())  # as stored
        values.append(value)
    return case_contribution(*values)


def case_after_save(sender, instance, update_fields=None, raw=False, **kwargs) -> None:
    before = getattr(instance, "_daily_before", None)
    if before is None:
        return
    instance._daily_before = None
    if update_fields is None and not raw and not CASE_ATTNAMES & instance.get_deferred_fields():
        # Saved whole: the row holds the instance's values, no need to read them back.
        difference = saved_case_contribution(instance)
    else:
        difference = stored_case_contribution([instance.pk])
    difference.subtract(before)
    offices_before = {key[1] for key in before if key[0] == CASE}
    if offices_before and offices_before != {instance.office_id}:
        # The case moved office: its claim's amounts move with it.
        claims = ExpenseClaim.objects.filter(case_id=instance.pk)
        difference.update(stored_claim_contribution(claims))
        difference.subtract(stored_claim_contribution(claims, office_id=offices_before.pop()))
    apply_difference(difference)


def case_before_delete(sender, instance, **kwargs) -> None:
    difference: Counter = Counter()
    difference.subtract(stored_case_contribution([instance.pk]))
    apply_difference(difference)


def claim_before_save(sender, instance, update_fields=None, **kwargs) -> None:
    instance._daily_before = None
    if not _touches(update_fields, CLAIM_FIELDS):
        return
    before = Counter()
    if instance.pk is not None:
        before = stored_claim_contribution(ExpenseClaim.objects.filter(pk=instance.pk))
    instance._daily_before = before


def claim_after_save(sender, instance, **kwargs) -> None:
    before = getattr(instance, "_daily_before", None)
    if before is None:
        return
    instance._daily_before = None
    difference = stored_claim_contribution(ExpenseClaim.objects.filter(pk=instance.pk))
    difference.subtract(before)
    apply_difference(difference)


def claim_before_delete(sender, instance, **kwargs) -> None:
    # Its receipts are deleted first (or refused), each taking its own amount away.
    difference: Counter = Counter()
    claims = ExpenseClaim.objects.filter(pk=instance.pk)
    difference.subtract(stored_claim_contribution(claims, with_receipts=False))
    apply_difference(difference)


def item_before_save(sender, instance, update_fields=None, **kwargs) -> None:
    instance._daily_before = None
    if not _touches(update_fields, {"amount", "claim", "claim_id"}):
        return
    instance._daily_before = (
        Counter() if instance.pk is None else stored_item_contribution(instance.pk)
    )


def item_after_save(sender, instance, **kwargs) -> None:
    before = getattr(instance, "_daily_before", None)
    if before is None:
        return
    instance._daily_before = None
    difference = stored_item_contribution(instance.pk)
    difference.subtract(before)
    apply_difference(difference)


def item_before_delete(sender, instance, **kwargs) -> None:
    difference: Counter = Counter()
    difference.subtract(stored_item_contribution(instance.pk))
    apply_difference(difference)


def cases_inserted_in_bulk(sender, pks, **kwargs) -> None:
    apply_difference(stored_case_contribution(pks))


def connect_signals() -> None:
    """Keep the aggregates with every write (called from ReportsConfig.ready())."""
    uid = "reports.daily"
    for model, before, after, deleting in [
        (ReissueCase, case_before_save, case_after_save, case_before_delete),
        (ExpenseClaim, claim_before_save, claim_after_save, claim_before_delete),
        (ClaimItem, item_before_save, item_after_save, item_before_delete),
    ]:
        pre_save.connect(before, sender=model, dispatch_uid=f"{uid}.{model.__name__}.pre")
        post_save.connect(after, sender=model, dispatch_uid=f"{uid}.{model.__name__}.post")
        pre_delete.connect(deleting, sender=model, dispatch_uid=f"{uid}.{model.__name__}.del")
    cases_inserted.connect(cases_inserted_in_bulk, sender=ReissueCase, dispatch_uid=uid)


# Rebuilding from the rows.


def rebuild_daily_aggregates(
    *,
    case_model=ReissueCase,
    claim_model=ExpenseClaim,
    case_day=CaseDay,
    card_day=CardDay,
    claim_day=ClaimDay,
    issued=None,
) -> dict[str, int]:
    """Compute every aggregate again from the cases and claims; return the rows per table.

    Idempotent. On PostgreSQL the cases, claims and receipts are locked against writes
    meanwhile (reads go on), so no step falls between the count and the swap.
    """
    from .selectors import DaysBetween  # the live figures' own expression

    issued = issued_states() if issued is None else issued
    tz = timezone.get_default_timezone()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            tables = [case_model, claim_model, claim_model._meta.get_field("items").related_model]
            names = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in tables)
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {names} IN SHARE MODE")
        for model in (case_day, card_day, claim_day):
            model.objects.all().delete()
        reported_on = TruncDate("reported_at", tzinfo=tz)
        by_state = (
            case_model.objects.annotate(span=Value(DAY), on=reported_on)
            .values("office_id", "span", "on", "state")
            .annotate(n=Count("id"))
            .order_by()
        )
        _insert_select(case_day, ["office_id", "span", "day", "state", "cases"], by_state)
        by_card = (
            case_model.objects.filter(state__in=issued, ss_card_issued_on__isnull=False)
            .annotate(span=Value(DAY), days=DaysBetween(reported_on, F("ss_card_issued_on")))
            .values("office_id", "span", "ss_card_issued_on", "days")
            .annotate(n=Count("id"))
            .order_by()
        )
        _insert_select(card_day, ["office_id", "span", "day", "days", "cases"], by_card)
        _add_weeks(case_day, "state")
        _add_weeks(card_day, "days")
        claim_day.objects.bulk_create(_claim_days(claim_model, claim_day, tz), batch_size=2000)
        return {m.__name__: m.objects.count() for m in (case_day, card_day, claim_day)}


def _insert_select(model, columns: list[str], queryset) -> None:
    sql, params = queryset.query.sql_with_params()
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(model._meta.db_table)} ({names}) {sql}", params)


def _add_weeks(model, column: str) -> None:
    """Add the week rows of `model`: the sums of its day rows, by Monday."""
    if connection.vendor == "postgresql":
        week = "date_trunc('week', day)::date"
    else:
        week = "date(day, '-6 days', 'weekday 1')"  # back to Monday, or stay on one
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (office_id, span, day, {column}, cases)"
            f" SELECT office_id, %s, {week}, {column}, SUM(cases) FROM {table}"
            f" WHERE span = %s GROUP BY office_id, {week}, {column}",
            [WEEK, DAY],
        )


def _claim_days(claim_model, claim_day, tz) -> list:
    sums: dict[tuple, dict[str, int]] = {}
    claims = claim_model.objects.order_by()
    figures = [
        ("claimed", "submitted_at", Sum("items__amount"), claims),
        (
            "approved",
            "examined_at",
            Sum("reimbursable_total"),
            claims.filter(state__in=APPROVED_STATES),
        ),
        ("paid", "paid_at", Sum("reimbursable_total"), claims.filter(state=ClaimState.PAID)),
    ]
    for name, moment, total, chosen in figures:
        rows = (
            chosen.filter(**{f"{moment}__isnull": False})
            .annotate(on=TruncDate(moment, tzinfo=tz))
            .values_list("case__office_id", "on")
            .annotate(total=total)
        )
        for office_id, day, amount in rows:
            sums.setdefault((office_id, day), {})[name] = fen(amount)
    return [claim_day(office_id=o, day=d, **amounts) for (o, d), amounts in sums.items()]
