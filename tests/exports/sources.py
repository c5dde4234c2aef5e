"""An export source for the worker tests: a build that never ends, till its worker is killed."""

import time

from exports.services import export_source


@export_source
def never_finishes(export):
    while True:
        time.sleep(0.05)
