"""What a case knows of its expense claim, told by the claims app in its AppConfig.ready():
`reissue` never imports `claims`, nor compares a claim's states as strings.

A case reads its claim as a stage of the one-time reimbursement: the case's `reimburse` and
`close` conditions, its slip and its work-queue turn follow it.
"""

import enum
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q


class ClaimStage(enum.Enum):
    NONE = "none"  # no claim entered (yet)
    BEING_PREPARED = "being_prepared"  # receipts still being entered
    BEING_EXAMINED = "being_examined"
    TO_BE_PAID = "to_be_paid"
    REJECTED = "rejected"
    PAID = "paid"


# Stages after which nothing is left to reimburse (the case may close).
SETTLED = frozenset({ClaimStage.NONE, ClaimStage.REJECTED})


@dataclass(frozen=True)
class ClaimSource:
    stage_of: Callable[[object], ClaimStage]  # a case -> its claim's stage
    cases_at: Callable[[frozenset[ClaimStage]], Q]  # the filter of cases at these stages


_source: ClaimSource | None = None


def register_claim_source(source: ClaimSource) -> None:
    global _source
    _source = source


def claim_stage(case) -> ClaimStage:
    """Return where the case's expense claim stands (NONE without the claims app)."""
    return ClaimStage.NONE if _source is None else _source.stage_of(case)


def cases_whose_claim_is(stages: frozenset[ClaimStage]) -> Q:
    """Return the filter of the cases whose claim is at one of `stages`."""
    if _source is None:
        return Q() if ClaimStage.NONE in stages else Q(pk__in=[])
    return _source.cases_at(stages)
