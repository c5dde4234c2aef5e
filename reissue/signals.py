"""Signals for writes that bypass `Model.save()`, so that apps above may keep figures of them."""

from django.dispatch import Signal

# Sent after cases were inserted in bulk (the legacy import), in the same transaction, with
# `pks`: the new cases' primary keys.
cases_inserted = Signal()
