"""Exports of the case list and the audit trail: placeholders, filled in by the exports work."""


class CaseExportMixin:
    pass


class AuditExportMixin:
    pass
