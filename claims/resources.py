"""Import-export resource of expense claims: one row per receipt, with its claim and case."""

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from exports.files import Column, Columns
from reissue.resources import CASE_COLUMNS, ColumnResource

from .models import ExpenseClaim

CLAIM_COLUMNS = Columns(
    ExpenseClaim,
    [
        *CASE_COLUMNS.under(
            ExpenseClaim, "case__", names="case_", headers={"state": _("case state")}
        ),
        Column("state", header=_("claim state")),
        Column("entered_by", "entered_by__username"),
        Column("created_at"),
        Column("submitted_by", "submitted_by__username"),
        Column("submitted_at"),
        Column("examined_by", "examined_by__username"),
        Column("examined_at"),
        Column("decision_reason"),
        Column("eligible_total"),
        Column("reimbursable_total"),
        Column("payment_reference"),
        Column("paid_by", "paid_by__username"),
        Column("paid_at"),
        Column("receipt_provider", "items__provider"),
        Column("receipt_visit_date", "items__visit_date"),
        Column("receipt_number", "items__receipt_number"),
        Column("receipt_category", "items__category"),
        Column("receipt_amount", "items__amount"),
        Column("receipt_eligible", "items__eligible"),
        Column("receipt_reimbursable_amount", "items__reimbursable_amount"),
    ],
)
RECEIPT_ORDER = ["items__visit_date", "items__receipt_number", "items__id"]


class ExpenseClaimResource(ColumnResource):
    """Expense claims, one row per receipt (a claim without receipts: one row without)."""

    columns = CLAIM_COLUMNS

    class Meta:
        name = _("expense claims")

    def rows(self, queryset: QuerySet, columns: Columns) -> QuerySet:
        # The list's queryset sums the receipts (GROUP BY claim); rows per receipt are read
        # from the claims it holds, in the list's order, then the receipts' own.
        ordering = [
            field
            for field in (queryset.query.order_by or ExpenseClaim._meta.ordering)
            if isinstance(field, str) and field.lstrip("-") not in queryset.query.annotations
        ]
        return (
            ExpenseClaim.objects.filter(pk__in=queryset.values("pk"))
            .order_by(*ordering, *RECEIPT_ORDER)
            .values_list(*columns.sources)
        )
