"""Fill the dashboard's daily aggregates from the cases and claims already there."""

from django.db import migrations


def fill(apps, schema_editor):
    from reports.daily import rebuild_daily_aggregates

    rebuild_daily_aggregates(
        case_model=apps.get_model("reissue", "ReissueCase"),
        claim_model=apps.get_model("claims", "ExpenseClaim"),
        case_day=apps.get_model("reports", "CaseDay"),
        card_day=apps.get_model("reports", "CardDay"),
        claim_day=apps.get_model("reports", "ClaimDay"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_dashboard_daily_aggregates"),
        ("reissue", "0006_reissuecase_sms_opt_out_reissuecase_sms_told_at"),
        ("claims", "0002_claim_newest_idx"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop, elidable=True)]
