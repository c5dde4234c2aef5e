"""django-tasks-db's `db_worker`, with a heartbeat and the sweep of dead workers' tasks.

Same options as the library's command (`--queue-name`, `--batch`, `--interval`, ...); it takes
its place because `jobs` comes before `django_tasks_db` in INSTALLED_APPS.
"""

from django.core.management.base import CommandError
from django_tasks_db.management.commands import db_worker as library

from jobs.workers import Heartbeat, new_worker_id


class BeatingWorker(library.Worker):
    def run(self) -> None:
        heartbeat = Heartbeat(self.worker_id)
        heartbeat.start()
        try:
            super().run()
        finally:
            heartbeat.stop()


class Command(library.Command):
    help = "Run a background worker on this database's task queue (with a heartbeat)."

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(worker_id=new_worker_id(), reload=False)

    def handle(
        self,
        *,
        verbosity: int,
        queue_name: str,
        interval: float,
        batch: bool,
        backend_name: str,
        startup_delay: bool,
        reload: bool,
        max_tasks: int | None,
        worker_id: str,
        exclude_queues: str,
        **options,
    ) -> None:
        self.configure_logging(verbosity)
        if reload:
            # The reloader's parent process would outlive a stopped child: restart by hand.
            library.logger.warning("--reload is not supported here; running without it.")
        queue_names = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = BeatingWorker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded,
        )
        worker.configure_signals()
        worker.run()
