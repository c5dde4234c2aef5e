"""Give every stored receipt the folded key of its hospital's name, by which it is matched."""

from django.db import migrations

from reissue.text import match_key


def fill_keys(apps, schema_editor):
    ClaimItem = apps.get_model("claims", "ClaimItem")
    items = list(ClaimItem.objects.only("pk", "provider"))
    for item in items:
        item.provider_key = match_key(item.provider)
    ClaimItem.objects.bulk_update(items, ["provider_key"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("claims", "0006_receipt_provider_key")]

    operations = [migrations.RunPython(fill_keys, migrations.RunPython.noop)]
