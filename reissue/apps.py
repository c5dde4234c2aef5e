from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReissueConfig(AppConfig):
    name = "reissue"
    verbose_name = _("Card reissue")

    def ready(self) -> None:
        from workdays.signals import working_days_changed
        from workflow.registry import register_workflow

        from .admin_counter import case_queue
        from .card_batches import register_audit_labels
        from .case_workflow import CASE_WORKFLOW
        from .clock_queue import clock_queue
        from .clocks import recount_when_working_days_change
        from .notices import register_notices
        from .sms import register_audit_labels as register_sms_audit_labels
        from .work_queue import register_queue_provider

        register_workflow(CASE_WORKFLOW)
        register_notices()
        register_audit_labels()
        register_sms_audit_labels()
        register_queue_provider("cases", case_queue)
        register_queue_provider("clocks", clock_queue)
        working_days_changed.connect(
            recount_when_working_days_change, dispatch_uid="reissue.recount_service_deadlines"
        )
