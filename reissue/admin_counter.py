"""Counter screens of a case (acknowledgement slip, workflow picture): a placeholder."""


class CaseCounterMixin:
    pass
