"""The printable notice of a reimbursement decision: a placeholder."""


class ClaimCounterMixin:
    pass
