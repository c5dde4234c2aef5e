"""Legacy import: applicants with their cases, from the CSV and XLSX files offices keep today.

One checker serves the admin (through `LegacyCaseResource` and import-export's dry-run preview)
and `manage.py import_cases`. A file is imported whole or not at all, in constant memory: rows
are read, checked and written a batch at a time in one transaction; a single bad row rolls the
whole file back, and the check goes on to the end so that every bad row is reported at once.

Each row is checked as registration checks a report, by the same function
(`registration.check_registration`: the ID number, the names, the loss date, the agent's
details, one open case per applicant, the name a known number is registered under), in an
office where the importing user may register cases. The writes are a bulk equivalent of
`services.case_register`: each case gets its reference from `CaseSequence` and a
`registered` entry in the hash-chained audit trail (an applicant whose contact details
change, an `edited` entry). Imported cases always start at `reported`: columns the workflow
sets (state, cards, ...) are refused.

The modules, in the order a file goes through them:

- `files`: reading a CSV (UTF-8 or GB18030) or XLSX file, row by row, within `ReadLimits`
  (`stream_table` reads the rows as they are asked for, so a file's rows are never all held);
- `cells` and `columns`: reading one cell; the columns, their headers and labels, the preview;
- `rows`: checking each row (`RowChecker`);
- `importer`: one file's run, all or nothing (`LegacyCaseImport`);
- `writer`: the bulk writes (`BulkWriter`);
- `resource`: the admin's side, for django-import-export.
"""

from .columns import (
    COLUMNS,
    MASKED_IN_PREVIEW,
    REQUIRED_COLUMNS,
    column_label,
    import_columns,
    labelled_errors,
    preview_values,
)
from .files import (
    ImportRefused,
    ReadLimits,
    UnreadableFile,
    browser_limits,
    check_xlsx_archive,
    clean_file_name,
    command_limits,
    count_rows,
    decode_text,
    megabytes,
    read_csv,
    read_table,
    read_xlsx,
    stream_table,
    text_encoding,
)
from .importer import (
    CHECKING,
    IMPORT_PERMISSION,
    WRITING,
    ImportOutcome,
    LegacyCaseImport,
    PassedCheck,
    access_import,
)
from .resource import ForTheWorker, LegacyCaseResource, LegacyCSV, LegacyXLSX
from .rows import RowProblem

__all__ = [
    "CHECKING",
    "COLUMNS",
    "IMPORT_PERMISSION",
    "MASKED_IN_PREVIEW",
    "REQUIRED_COLUMNS",
    "WRITING",
    "ForTheWorker",
    "ImportOutcome",
    "PassedCheck",
    "ImportRefused",
    "LegacyCSV",
    "LegacyCaseImport",
    "LegacyCaseResource",
    "LegacyXLSX",
    "ReadLimits",
    "RowProblem",
    "UnreadableFile",
    "access_import",
    "browser_limits",
    "check_xlsx_archive",
    "clean_file_name",
    "column_label",
    "command_limits",
    "count_rows",
    "decode_text",
    "import_columns",
    "labelled_errors",
    "megabytes",
    "preview_values",
    "read_csv",
    "read_table",
    "read_xlsx",
    "stream_table",
    "text_encoding",
]
