"""Run the case clocks once (cron: every few minutes; each run takes only what is due)."""

from django.core.management.base import BaseCommand

from reissue.clocks import run_clocks


class Command(BaseCommand):
    help = "Lapse temporary loss reports, cancel old cards, expire temporary cards, flag overdue."

    def handle(self, *args, **options) -> None:
        run = run_clocks()
        self.stdout.write(
            f"lapsed {run.lapsed}, old cards cancelled {run.old_cards_cancelled}, "
            f"temporary cards expired {run.temp_cards_expired}, "
            f"flagged overdue {run.flagged_overdue}"
        )
