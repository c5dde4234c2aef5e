from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RatingsConfig(AppConfig):
    name = "ratings"
    verbose_name = _("Ratings of the service")

    def ready(self) -> None:
        from audit.models import register_step_labels
        from reissue.work_queue import register_queue_provider

        from .models import ACTION_LABELS, Rating
        from .work_queue import rating_queue

        register_step_labels(Rating, ACTION_LABELS)
        register_queue_provider("ratings", rating_queue)
