"""Compute the supervisor dashboard's daily aggregates again from the cases and claims."""

from django.core.management.base import BaseCommand

from reports.daily import rebuild_daily_aggregates


class Command(BaseCommand):
    help = (
        "Rebuild the supervisor dashboard's daily aggregates from the cases and claims "
        "(idempotent; after writes that bypass the application, such as a restore or SQL)."
    )

    def handle(self, *args, **options) -> None:
        rows = rebuild_daily_aggregates()
        summary = ", ".join(f"{name}: {count:,}" for name, count in rows.items())
        self.stdout.write(f"Rebuilt the dashboard's daily aggregates ({summary} rows).")
