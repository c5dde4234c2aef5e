"""Model fields for personal data stored encrypted."""

from collections.abc import Callable

from django import forms
from django.db import models

from .encryption import decrypt, encrypt


class EncryptedCharField(models.TextField):
    """Text that Python sees plain and the database holds encrypted (common/encryption.py).

    Each value is bound to its table and column (`encryption_context`): copied into another
    column it does not decrypt. Renaming the table or the column therefore needs a migration
    that re-encrypts the values (decrypt with the old context, encrypt with the new).

    An empty value stays empty, so `blank` rules and constraints on "" still work. Encrypted
    values cannot be searched: look records up by a keyed hash kept beside them.

    `personal_number`: the field holds a personal number (an ID or phone number), shown
    through this function to anyone who may not see it in full: the audit trail, the exports,
    the admin and the import preview read it (`common.personal_numbers`).
    """

    encryption_context = b""  # until the field belongs to a model

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        self.encryption_context = f"{cls._meta.db_table}.{self.column}".encode()

    def __init__(self, *args, personal_number: Callable[[str], str] | None = None, **kwargs):
        # How a value is shown is no part of the schema: left out of `deconstruct`, so out of
        # the migrations.
        self.personal_number = personal_number
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        return decrypt(value, context=self.encryption_context) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value, context=self.encryption_context) if value else value

    def formfield(self, **kwargs):
        # A one-line input with the declared max_length, not the TextField's textarea.
        return super().formfield(**{"form_class": forms.CharField, "widget": None, **kwargs})
