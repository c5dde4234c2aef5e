"""Exports of expense claims with their receipts: a placeholder, filled in by the exports work."""


class ClaimExportMixin:
    pass
