"""Indexes for the case list filtered by state at a million cases (bench/changelist.py).

- case_state_newest_idx: a state's cases newest first; office_id included so that the capped
  count and the office scoping read the index alone (EXPLAIN: 32-63 ms -> 10 ms at 1M).
- case_state_reference_idx: a state filter with a search by the start of a reference.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reissue", "0013_normalized_names_and_addresses"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="reissuecase",
            index=models.Index(
                fields=["state", "-reported_at", "-id"],
                include=["office"],
                name="case_state_newest_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="reissuecase",
            index=models.Index(
                fields=["state", "reference"],
                name="case_state_reference_idx",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
            ),
        ),
    ]
