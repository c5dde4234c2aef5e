"""Import of legacy cases: a placeholder, filled in by the legacy-import work."""


class CaseImportMixin:
    pass
