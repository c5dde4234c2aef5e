"""What the calendar tells the apps above it when its working days change.

The apps that count deadlines connect in their AppConfig.ready() (reissue recounts its cases'
service deadlines), so the calendar never imports them.
"""

from django.dispatch import Signal

# Sent inside the change's transaction, with `days`: the dates that became or stopped being
# working days. The receivers' work is part of the change: it fails with it.
working_days_changed = Signal()
