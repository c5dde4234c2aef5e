"""Step 3 of 3: the columns hold tokens now; make the hash required and unique."""

from django.db import migrations, models

import reissue.fields
import reissue.id_numbers
import reissue.models


class Migration(migrations.Migration):
    dependencies = [("reissue", "0004_encrypt_personal_data")]

    operations = [
        migrations.AlterField(
            model_name="applicant",
            name="id_number",
            field=reissue.fields.EncryptedCharField(
                help_text="18 characters; the last may be X.",
                max_length=18,
                validators=[reissue.id_numbers.validate_id_number],
                verbose_name="resident ID number",
            ),
        ),
        migrations.AlterField(
            model_name="applicant",
            name="phone",
            field=reissue.fields.EncryptedCharField(
                max_length=20,
                validators=[reissue.models.phone_validator],
                verbose_name="phone",
            ),
        ),
        migrations.AlterField(
            model_name="reissuecase",
            name="agent_id_number",
            field=reissue.fields.EncryptedCharField(
                blank=True,
                max_length=18,
                validators=[reissue.id_numbers.validate_id_number],
                verbose_name="agent's ID number",
            ),
        ),
        migrations.AlterField(
            model_name="applicant",
            name="id_number_hash",
            field=models.CharField(editable=False, max_length=64),
        ),
        migrations.AddConstraint(
            model_name="applicant",
            constraint=models.UniqueConstraint(
                fields=("id_number_hash",),
                name="applicant_unique_id_number",
                violation_error_message="An applicant with this ID number already exists.",
            ),
        ),
    ]
