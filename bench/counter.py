"""Time the counter screens at a given number of cases: the work queue on the admin home, the
lists it links to, the case page with its workflow picture, and the slip.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reissue_bench \
        .venv/bin/python bench/counter.py --cases 100000

Fills the database as bench/changelist.py does (one office, states mixed, a clerk who acts
in it), then prints the median of 20 requests and the query count of each page, beside the
stock admin list of offices as the anchor. Prints
figures only; nothing here is a test.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from changelist import seed, timed  # noqa: E402  (sets up Django)
from django.contrib.auth.models import Permission  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from bench.sessions import logged_in_client  # noqa: E402
from reissue.models import ReissueCase  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10000)
    args = parser.parse_args()
    setup_test_environment()
    call_command("migrate", verbosity=0)
    office, clerk = seed(args.cases)
    # The anchor page needs the right to see offices, which clerks lack: for the bench only.
    clerk.user_permissions.add(Permission.objects.get(codename="view_office"))
    client = logged_in_client(clerk)
    case = ReissueCase.objects.filter(office=office, state="reported").order_by("-id").first()
    base = "/admin/reissue/reissuecase/"
    pages = {
        "admin home (work queue)": "/admin/",
        "list: my open cases": f"{base}?mine=yes",
        "list: waiting for me": f"{base}?waiting=yes",
        "list: overdue": f"{base}?overdue=1",
        "case page (with picture)": f"{base}{case.pk}/change/",
        "slip": f"{base}{case.pk}/slip/",
    }
    # The anchor: Django's stock admin list of a small table, the same session, the same run.
    anchor, anchor_queries, _ = timed(client, "/admin/reissue/office/")
    print(f"{connection.vendor}, {ReissueCase.objects.count():,} cases")
    print(f"  {'anchor: stock office list':<28} median {anchor:7.1f} ms   {anchor_queries} queries")
    for name, url in pages.items():
        median, queries, in_database = timed(client, url)
        print(
            f"  {name:<28} median {median:7.1f} ms   {queries} queries "
            f"({in_database:5.1f} ms in the database; {median / anchor:4.1f}x the anchor)"
        )


if __name__ == "__main__":
    main()
