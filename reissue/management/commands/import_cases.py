"""Import legacy cases from a large CSV or XLSX file, outside the browser.

    manage.py import_cases FILE --user USERNAME [--office CODE] [--dry-run]

The same checks as the admin's import (`legacy_import.LegacyCaseImport`), and the same rule:
the file is imported whole or not at all. With no preview to wait for, each batch is checked
just before it is written (`check_and_write`): the rows are checked once, not twice, and the
file's offices wait for their sequences meanwhile. A progress bar goes to stderr.
"""

import sys
import time
from collections.abc import Mapping
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from reissue.legacy_import import (
    CHECKING,
    WRITING,
    ImportRefused,
    LegacyCaseImport,
    command_limits,
    stream_table,
)


class ProgressBar:
    """A one-line progress bar per stage, redrawn in place at most five times a second.

    `labels` names each stage of the import ({stage: label}).
    """

    def __init__(
        self, labels: Mapping[str, str], *, write=sys.stderr.write, width: int = 30
    ) -> None:
        self.labels, self.write, self.width = labels, write, width
        self.stage = None
        self.started = self.drawn = time.perf_counter()

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if stage != self.stage:
            self.stage = stage  # a new bar, drawn at once
        elif done < total and now - self.drawn < 0.2:
            return
        self.drawn = now
        filled = self.width * done // max(total, 1)
        rate = _("%(rate)s rows/s") % {"rate": f"{done / max(now - self.started, 1e-9):,.0f}"}
        bar = "#" * filled + "-" * (self.width - filled)
        self.write(
            f"\r{self.labels[stage]} [{bar}] {done:,}/{total:,} "
            f"({100 * done // max(total, 1)}%) {rate}"
        )
        if done >= total:
            self.write("\n")
            self.started = now  # the next stage starts now


class Command(BaseCommand):
    help = "Import legacy cases (applicants and their reports) from a CSV or XLSX file."

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .csv (UTF-8 or GBK/GB18030) or .xlsx file")
        parser.add_argument("--user", required=True, help="the importing user's username")
        parser.add_argument("--office", default="", help="accept only rows of this office code")
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        parser.add_argument("--quiet-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        path = Path(options["file"])
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(_("No user is called “%(name)s”.") % {"name": options["user"]})
        try:
            data, limits = path.read_bytes(), command_limits()
            importer = LegacyCaseImport(
                acting_user=user, office_code=options["office"], source_name=path.name
            )
            progress = None
            if not options["quiet_progress"]:
                labels = {CHECKING: _("Checking"), WRITING: _("Importing")}
                progress = ProgressBar(labels, write=self._draw)

            # The rows are read a batch at a time: constant memory. First they are only
            # counted, and their offices noted; then each batch is checked and, while all
            # are good, written, in one transaction (`check_and_write`).
            headers, rows = stream_table(data, file_name=path.name, limits=limits)
            survey = importer.survey(
                headers, stream_table(data, file_name=path.name, limits=limits)[1]
            )
            reporting = {
                "progress": progress,
                "problems_kept": settings.IMPORT_MAX_ERRORS_LISTED,
                "keep_references": False,
            }
            if options["dry_run"]:
                outcome = importer.run(headers, rows, dry_run=True, total=survey.rows, **reporting)
            else:
                outcome = importer.check_and_write(headers, rows, survey=survey, **reporting)
        except (ImportRefused, PermissionDenied) as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        if not outcome.ok:
            self._report_problems(outcome)
            raise CommandError(
                _("Nothing was imported: %(count)d of %(total)d rows have errors.")
                % {"count": outcome.problem_count, "total": outcome.rows}
            )
        if outcome.dry_run:
            message = _("All %(total)d rows can be imported (dry run: nothing was written).")
        else:
            message = _("Imported %(total)d cases; each starts at “reported”.")
        self.stdout.write(self.style.SUCCESS(message % {"total": outcome.rows}))

    def _draw(self, text: str) -> None:
        self.stderr.write(text, ending="")
        self.stderr.flush()  # no newline until the end: flush each redraw

    def _report_problems(self, outcome) -> None:
        for problem in outcome.problems:
            for column, messages in problem.errors.items():
                for message in messages:
                    self.stderr.write(
                        _("row %(row)d, %(column)s: %(message)s")
                        % {"row": problem.number, "column": column, "message": message}
                    )
        unlisted = outcome.problem_count - len(outcome.problems)
        if unlisted:
            self.stderr.write(_("... and %(count)d more rows with errors.") % {"count": unlisted})
