"""The export button and page of expense claims: one row per receipt, with claim and case."""

from reissue.admin_exports import ColumnExportMixin

from .resources import ExpenseClaimResource


class ClaimExportMixin(ColumnExportMixin):
    export_resource_class = ExpenseClaimResource
    export_permission = "claims.export_claims"
