"""Backup connectors for django-dbbackup, named in the settings."""

import sqlite3
from contextlib import closing
from shutil import copyfileobj
from tempfile import NamedTemporaryFile

from dbbackup.db import sqlite


class SqliteBackupConnector(sqlite.SqliteBackupConnector):
    """Back up and restore SQLite through its backup API, both ways.

    dbbackup restores by writing over the database file, which corrupts a database that is in
    use and cannot reach an in-memory one (the test database); the backup API does both safely.
    """

    def restore_dump(self, dump):
        with NamedTemporaryFile(suffix=".sqlite3") as copy:
            copyfileobj(dump, copy)
            copy.flush()
            self.connection.ensure_connection()
            with closing(sqlite3.connect(copy.name)) as source:
                source.backup(self.connection.connection)
