"""Print the SQL that gives the application's PostgreSQL role its rights (README: Deployment)."""

import re

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.append_only import app_role_sql

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class Command(BaseCommand):
    help = (
        "Print the GRANTs for the role the application runs as: rows only, no TRUNCATE or "
        "ALTER, and on the audit tables only SELECT and INSERT. Run them as the owner."
    )

    def add_arguments(self, parser):
        parser.add_argument("--role", default="reissue_app", help="the application's role")
        parser.add_argument("--owner", default="reissue_owner", help="the role that migrates")
        parser.add_argument("--database", default="", help="default: the configured database")

    def handle(self, *args, role, owner, database, **options):
        for name in (role, owner):
            if not IDENTIFIER.match(name):
                raise CommandError(f"{name!r} is not a plain lower-case role name.")
        database = database or settings.DATABASES["default"]["NAME"]
        for statement in app_role_sql(role=role, owner=owner, database=database):
            self.stdout.write(statement + ";")
