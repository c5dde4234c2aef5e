from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = _("Expense claims")

    def ready(self) -> None:
        from reissue.models import ReissueCase
        from reissue.reimbursement import register_claim_source
        from reissue.work_queue import register_queue_provider
        from workflow.registry import register_workflow
        from workflow.transitions import register_lock_source

        from .admin_counter import claim_queue
        from .claim_workflow import CLAIM_WORKFLOW
        from .models import case_locks, claim_source
        from .notices import register_notices

        register_workflow(CLAIM_WORKFLOW)
        register_notices()
        register_queue_provider("claims", claim_queue)
        # The case reads its claim as a stage of the reimbursement (reissue.reimbursement).
        register_claim_source(claim_source())
        # A submitted claim fixes what its examination reads on the case.
        register_lock_source(ReissueCase, case_locks)
