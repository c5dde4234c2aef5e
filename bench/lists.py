"""Time every admin list at a small and a large size, interleaved, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reissue_bench \
        .venv/bin/python bench/lists.py --cases 1000000

Seeds (once; reused while their size matches) two databases named after DATABASE_URL's,
`<name>_10000` and `<name>_<cases>`, by INSERT ... SELECT in the database itself: 20 offices of
unequal size, reports spread over five years, applicants named by real surname frequencies,
about five audit entries per case (registration, each step, some edits, the claim's), claims
for about 14 % of the cases, an access log, incidents and one policy per office. The audit
entries' hashes are left empty: the chain is not verified here.

Then it times every list of the admin, with each filter, search and sortable column (read from
the lists themselves), and the admin home, as the supervisor of the largest office (a fifth of
the cases), of the smallest (2 %) and an auditor of all offices, alternating the small and the
large database request by request over --rounds rounds, and prints the medians side by side,
their ratio, the goals (under 300 ms, within 1.5x), and the anchor: Django's stock list of
offices on the same database. Prints figures only; nothing here is a test.
"""

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.contrib import admin  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.db.utils import load_backend  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from audit.chain import ChainHead  # noqa: E402
from audit.models import AuditEntry, PersonalDataAccess  # noqa: E402
from bench.sessions import logged_in_client  # noqa: E402
from claims.models import ClaimItem, ExpenseClaim, ReimbursementPolicy  # noqa: E402
from common.id_numbers import compose_id_number, id_number_digest  # noqa: E402
from incidents.models import Incident  # noqa: E402
from offices.models import Office  # noqa: E402
from reissue.models import Applicant, ReissueCase  # noqa: E402
from workdays.models import CalendarDay  # noqa: E402

SMALL = 10_000
OFFICES = 20
SPAN_DAYS = 5 * 365
GOAL_MS = 300
# Surnames by their share of the population in per cent (the 2020 census, rounded); the rest
# of the population shares the last names of the list. Rare ones are searched too.
SURNAMES = {
    "王": 7.1, "李": 7.0, "张": 6.6, "刘": 5.4, "陈": 4.5, "杨": 3.2, "黄": 2.4, "赵": 2.2,
    "吴": 2.0, "周": 2.0, "徐": 1.6, "孙": 1.5, "马": 1.4, "朱": 1.3, "胡": 1.3, "郭": 1.2,
    "何": 1.1, "林": 1.1, "高": 1.1, "罗": 1.0, "郑": 0.9, "梁": 0.9, "谢": 0.8, "宋": 0.7,
    "唐": 0.7, "许": 0.7, "韩": 0.6, "冯": 0.6, "邓": 0.6, "曹": 0.6, "彭": 0.6, "曾": 0.6,
    "肖": 0.6, "田": 0.5, "董": 0.5, "袁": 0.5, "潘": 0.5, "于": 0.5, "蒋": 0.5, "蔡": 0.5,
    "余": 0.5, "杜": 0.4, "叶": 0.4, "程": 0.4, "苏": 0.4, "魏": 0.4, "吕": 0.4, "丁": 0.4,
    "任": 0.4, "沈": 0.4, "姚": 0.3, "卢": 0.3, "姜": 0.3, "崔": 0.3, "钟": 0.3, "谭": 0.3,
    "陆": 0.3, "汪": 0.3, "范": 0.3, "金": 0.3, "石": 0.3, "廖": 0.3, "贾": 0.3, "夏": 0.3,
    "韦": 0.3, "付": 0.3, "方": 0.3, "白": 0.2, "邹": 0.2, "孟": 0.2, "熊": 0.2, "秦": 0.2,
    "邱": 0.2, "江": 0.2, "尹": 0.2, "薛": 0.2, "闫": 0.2, "段": 0.2, "雷": 0.2, "侯": 0.2,
    "龙": 0.2, "史": 0.2, "陶": 0.2, "黎": 0.2, "贺": 0.2, "顾": 0.2, "毛": 0.2, "郝": 0.2,
    "龚": 0.2, "邵": 0.2, "万": 0.2, "钱": 0.2, "严": 0.1, "覃": 0.1, "武": 0.1, "戴": 0.1,
    "莫": 0.1, "孔": 0.1, "欧阳": 0.05, "上官": 0.01, "司马": 0.01, "诸葛": 0.01,
}  # fmt: skip
# Characters of given names (one or two of them).
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英霞平刚桂兰玉华文建国志红梅"
    "飞鹏辉斌宇浩凯婷雪琳晨欣子涵佳怡思雨俊博轩然一诺嘉晓海波"
)
# The steps each state's case took, as the audit trail records them: (action, from, to).
STEP_PATHS = {
    "reported": [],
    "temp_card_issued": [("issue_temp_card", "reported", "temp_card_issued")],
    "id_reissued": [
        ("issue_temp_card", "reported", "temp_card_issued"),
        ("record_id_reissued", "temp_card_issued", "id_reissued"),
    ],
    "ss_card_reissued": [
        ("issue_temp_card", "reported", "temp_card_issued"),
        ("record_id_reissued", "temp_card_issued", "id_reissued"),
        ("reissue_ss_card", "id_reissued", "ss_card_reissued"),
    ],
    "cancelled": [
        ("issue_temp_card", "reported", "temp_card_issued"),
        ("cancel", "temp_card_issued", "cancelled"),
    ],
    "lifted": [("lift_loss_report", "reported", "lifted")],
}
STEP_PATHS["reimbursed"] = [*STEP_PATHS["ss_card_reissued"]]
STEP_PATHS["reimbursed"].append(("reimburse", "ss_card_reissued", "reimbursed"))
# The clerk and the supervisor of a case's office (offices are numbered from first_office).
CLERK_OF = "(%(clerks)s::bigint[])[1 + (k.n %% 3)::int + 3 * (k.office_id - %(first_office)s)::int]"
SUPERVISOR_OF = "(%(supervisors)s::bigint[])[k.office_id - %(first_office)s + 1]"
STEP_PATHS["closed"] = [*STEP_PATHS["ss_card_reissued"], ("close", "ss_card_reissued", "closed")]


# Databases ----------------------------------------------------------------------------------


def database_wrapper(name: str):
    """Return a connection (not yet opened) to database `name` on DATABASE_URL's server."""
    settings_dict = {**connections.settings["default"], "NAME": name}
    return load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "default")


def use_database(wrapper) -> None:
    """Make `wrapper` the default connection: every query, the ORM's and the admin's, goes there."""
    connections["default"] = wrapper
    ContentType.objects.clear_cache()  # ids are per database


def create_database_if_missing(name: str) -> None:
    import psycopg

    settings = connections.settings["default"]
    with psycopg.connect(
        dbname="postgres",
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        password=settings["PASSWORD"] or None,
        autocommit=True,
    ) as server:
        if not server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            server.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    import psycopg

    settings = connections.settings["default"]
    with psycopg.connect(
        dbname="postgres",
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        password=settings["PASSWORD"] or None,
        autocommit=True,
    ) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Seeding ------------------------------------------------------------------------------------


def sql(statement: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def insert_select(model, values: dict, rest: str, params: dict | None = None) -> None:
    """INSERT INTO model's table SELECT `values` (SQL by field name) `rest` (FROM ...).

    Every field not in `values` takes its default, cast to its column type, so a field added
    to the model later needs no change here. Parameters are named: %(name)s.
    """
    columns, expressions, params = [], [], dict(params or {})
    for field in model._meta.concrete_fields:
        if field.primary_key and field.name not in values:
            continue
        columns.append(f'"{field.column}"')
        if field.name in values:
            expressions.append(values[field.name])
        else:
            params[f"default_{field.name}"] = field.get_db_prep_save(
                field.get_default(), connection
            )
            expressions.append(f"%(default_{field.name})s::{field.db_type(connection)}")
    table = model._meta.db_table
    statement = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(expressions)} {rest}"
    sql(statement, params)


def encrypted_pool(model, field_name: str, values: list[str]) -> list[str]:
    """Encrypt a few values for `field_name`: the seed reuses them (decrypting is per row)."""
    field = model._meta.get_field(field_name)
    return [field.get_db_prep_save(value, connection) for value in values]


def weighted_slots(weights: dict, slots: int) -> list:
    total = sum(weights.values())
    out = []
    for key, weight in weights.items():
        out += [key] * max(1, round(weight / total * slots))
    return out


def secondary_indexes(tables: list[str]) -> list[tuple[str, str]]:
    """Return (name, CREATE INDEX) of the indexes of `tables` that back no constraint."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.tablename = ANY(%s) AND i.schemaname = current_schema()
              AND NOT EXISTS (
                SELECT 1 FROM pg_constraint c WHERE c.conindid = (i.schemaname || '.' ||
                quote_ident(i.indexname))::regclass)
            """,
            [tables],
        )
        return cursor.fetchall()


def lists_office_weight(k: int) -> float:
    """Office k's (from 0) share of the cases falls as 1/(k+1)^0.8: of 20, the first a fifth."""
    return 1 / (k + 1) ** 0.8


def seed(
    total: int,
    *,
    offices: int = OFFICES,
    office_weight=lists_office_weight,
    light_audit: bool = False,
) -> None:
    """Fill an empty, migrated database with `total` cases and what comes with them.

    `office_weight(k)` gives office k's (from 0) relative share of the cases. A light audit
    trail keeps per case only its registration and its last step (one or two entries), not
    every step and edit: the size of a province's trail in minutes, not hours.
    """
    began = time.perf_counter()
    User = get_user_model()
    digits = max(2, len(str(offices)))
    offices = [
        Office.objects.create(code=f"B{k:0{digits}d}", name=f"第{k}社保服务站")
        for k in range(1, offices + 1)
    ]
    # Memory for the sorts and the index builds of millions of rows, this session only.
    sql("SET work_mem = '256MB'")
    sql("SET maintenance_work_mem = '1GB'")
    people = {}
    for office in offices:
        for role, count in (("Clerk", 3), ("Supervisor", 1)):
            for k in range(count):
                name = f"bench.{role.lower()}.{office.code.lower()}.{k}"
                user = User.objects.create(username=name, is_staff=True, first_name=name)
                user.groups.add(Group.objects.get(name=role))
                office.staff.add(user)
                people.setdefault((role, office.code), []).append(user)
    auditor = User.objects.create(username="bench.auditor", is_staff=True)
    auditor.groups.add(Group.objects.get(name="Auditor"))
    offices[0].staff.add(auditor)
    for office in offices:
        ReimbursementPolicy.objects.create(
            office=office,
            effective_from=datetime.date(2020, 1, 1),
            deductible=100,
            rate_outpatient="0.5",
            rate_inpatient="0.7",
            rate_pharmacy="0.3",
            cap_per_case=5000,
        )
    office_slots = weighted_slots(
        {o.pk: office_weight(k) for k, o in enumerate(offices)}, 50 * len(offices)
    )
    clerks = {o.pk: [u.pk for u in people[("Clerk", o.code)]] for o in offices}
    supervisors = {o.pk: people[("Supervisor", o.code)][0].pk for o in offices}
    office_params = {
        "clerks": [pk for o in offices for pk in clerks[o.pk]],
        "supervisors": [supervisors[o.pk] for o in offices],
        "first_office": offices[0].pk,
    }
    tables = [m._meta.db_table for m in (Applicant, ReissueCase, AuditEntry, ExpenseClaim)]
    tables += [ClaimItem._meta.db_table, PersonalDataAccess._meta.db_table]
    indexes = secondary_indexes(tables)
    for name, _definition in indexes:
        sql(f'DROP INDEX "{name}"')
    sql("SET session_replication_role = replica")  # no foreign-key nor append-only triggers
    sql("SELECT setseed(0.42)")
    sql(
        "CREATE TEMP TABLE bench_case AS SELECT n,"
        " (%s::bigint[])[1 + floor(random() * %s)::int] AS office_id,"
        " now() - floor(random() * %s) * interval '1 day'"
        "   - (random() * 9) * interval '1 hour' AS reported_at,"
        " random() AS roll, random() AS roll2"
        " FROM generate_series(1, %s) n",
        [office_slots, len(office_slots), SPAN_DAYS, total],
    )
    phones = [f"139{n:08d}" for n in range(200)]
    id_tokens = encrypted_pool(Applicant, "id_number", [compose(n) for n in range(200)])
    phone_tokens = encrypted_pool(Applicant, "phone", phones)
    # A surname by a binary search of the cumulative shares: indexing a long text[] walks it
    # element by element (70 µs a row, 12 minutes at 10M), a float8[] is searched.
    surnames, shares = list(SURNAMES), list(SURNAMES.values())
    bounds = [sum(shares[: k + 1]) / sum(shares) for k in range(len(shares) - 1)]
    insert_select(
        Applicant,
        {
            "id": "n",
            "name": "(%(surnames)s::text[])[1 + width_bucket(random(), %(bounds)s::float8[])]"
            " || substr(%(given)s, 1 + floor(random() * %(given_count)s)::int, 1)"
            " || CASE WHEN random() < 0.7"
            " THEN substr(%(given)s, 1 + floor(random() * %(given_count)s)::int, 1)"
            " ELSE '' END",
            "id_number": "(%(id_tokens)s::text[])[1 + n %% 200]",
            "id_number_hash": "encode(sha256(('bench' || n)::bytea), 'hex')",
            "birth_date": "date '1950-01-01' + (n %% 20000)",
            "sex": "CASE WHEN n %% 2 = 0 THEN 'F' ELSE 'M' END",
            "phone": "(%(phone_tokens)s::text[])[1 + n %% 200]",
            "hukou_address": "'北京市东城区' || (n %% 500) || '号'",
            "hukou_police_station": "'东城派出所'",
        },
        "FROM generate_series(1, %(total)s) n",
        {
            "surnames": surnames,
            "bounds": bounds,
            "given": GIVEN,
            "given_count": len(GIVEN),
            "id_tokens": id_tokens,
            "phone_tokens": phone_tokens,
            "total": total,
        },
    )
    print(f"  applicants {time.perf_counter() - began:.0f} s", file=sys.stderr)
    # The state by age: young cases mostly under way, old ones mostly served.
    state = """CASE WHEN now() - b.reported_at > interval '45 days' THEN
        CASE WHEN b.roll < 0.70 THEN 'closed' WHEN b.roll < 0.80 THEN 'reimbursed'
             WHEN b.roll < 0.88 THEN 'cancelled' WHEN b.roll < 0.93 THEN 'lifted'
             WHEN b.roll < 0.98 THEN 'ss_card_reissued' WHEN b.roll < 0.99 THEN 'reported'
             WHEN b.roll < 0.995 THEN 'temp_card_issued' ELSE 'id_reissued' END
    ELSE
        CASE WHEN b.roll < 0.30 THEN 'reported' WHEN b.roll < 0.45 THEN 'temp_card_issued'
             WHEN b.roll < 0.55 THEN 'id_reissued' WHEN b.roll < 0.80 THEN 'ss_card_reissued'
             WHEN b.roll < 0.90 THEN 'closed' WHEN b.roll < 0.95 THEN 'reimbursed'
             ELSE 'cancelled' END END"""
    sql(
        f"CREATE TEMP TABLE bench_case2 AS SELECT b.*, {state} AS state,"
        " row_number() OVER (PARTITION BY b.office_id,"
        "   extract(year FROM b.reported_at AT TIME ZONE 'Asia/Shanghai')"
        "   ORDER BY b.reported_at) AS number,"
        " extract(year FROM b.reported_at AT TIME ZONE 'Asia/Shanghai')::int AS year"
        " FROM bench_case b"
    )
    served = "c.state IN ('ss_card_reissued', 'reimbursed', 'closed')"
    past_temp = "c.state NOT IN ('reported', 'lifted')"
    insert_select(
        ReissueCase,
        {
            "id": "c.n",
            "reference": "o.code || '-' || c.year || '-' || lpad(c.number::text, 6, '0')",
            "applicant": "c.n",
            "applicant_name": "a.name",
            "office": "c.office_id",
            "lost_items": "CASE WHEN c.roll2 < 0.7 THEN 'both' WHEN c.roll2 < 0.8"
            " THEN 'id_card' ELSE 'ss_card' END",
            "loss_kind": "CASE WHEN c.roll2 < 0.8 THEN 'lost' WHEN c.roll2 < 0.95"
            " THEN 'stolen' ELSE 'damaged' END",
            "loss_date": "(c.reported_at AT TIME ZONE 'Asia/Shanghai')::date - (c.n %% 10)",
            "reported_at": "c.reported_at",
            "handled_by": CLERK_OF.replace("k.", "c."),
            "presented_id_card": "true",
            "presented_hukou_book": "true",
            "temp_card_number": f"CASE WHEN {past_temp} THEN 'T' || c.n ELSE '' END",
            "temp_card_issued_on": f"CASE WHEN {past_temp}"
            " THEN (c.reported_at AT TIME ZONE 'Asia/Shanghai')::date END",
            "id_card_issued_on": f"CASE WHEN {served} OR c.state = 'id_reissued'"
            " THEN least(current_date, c.reported_at::date + 2 + c.n %% 20) END",
            "ss_card_number": f"CASE WHEN {served} THEN 'SS' || lpad(c.n::text, 10, '0')"
            " ELSE '' END",
            "ss_card_issued_on": f"CASE WHEN {served}"
            " THEN least(current_date, c.reported_at::date + 4 + c.n %% 36) END",
            "cancel_reason": "CASE WHEN c.state = 'cancelled' THEN '申请人撤回' ELSE '' END",
            "lift_reason": "CASE WHEN c.state = 'lifted' THEN '卡在家中找到' ELSE '' END",
            "finished_at": "CASE WHEN c.state IN ('reimbursed', 'closed', 'cancelled', 'lifted')"
            " THEN least(now(), c.reported_at + interval '20 days') END",
            "state": "c.state",
        },
        "FROM bench_case2 c JOIN offices_office o ON o.id = c.office_id"
        " JOIN reissue_applicant a ON a.id = c.n",
        office_params,
    )
    sql(
        "INSERT INTO reissue_casesequence (office_id, year, last_number)"
        " SELECT office_id, year, max(number) FROM bench_case2 GROUP BY office_id, year"
    )
    print(f"  cases {time.perf_counter() - began:.0f} s", file=sys.stderr)
    case_type = ContentType.objects.get_for_model(ReissueCase).pk
    claim_type = ContentType.objects.get_for_model(ExpenseClaim).pk
    # Claims: every reimbursed case's (paid), half of those with the new card (under way),
    # a few closed ones' (rejected).
    claim_state = """CASE WHEN c.state = 'reimbursed' THEN 'paid'
        WHEN c.state = 'ss_card_reissued' AND c.roll2 < 0.2 THEN 'draft'
        WHEN c.state = 'ss_card_reissued' AND c.roll2 < 0.35 THEN 'submitted'
        WHEN c.state = 'ss_card_reissued' AND c.roll2 < 0.5 THEN 'approved'
        WHEN c.state = 'closed' AND c.roll2 < 0.03 THEN 'rejected' END"""
    sql(
        f"CREATE TEMP TABLE bench_claim AS SELECT c.n, c.office_id, c.reported_at, "
        f"{claim_state} AS state FROM bench_case2 c"
    )
    sql("DELETE FROM bench_claim WHERE state IS NULL")
    decided = "k.state IN ('approved', 'paid', 'rejected')"
    clerk_of = CLERK_OF
    insert_select(
        ExpenseClaim,
        {
            "id": "k.n",
            "case": "k.n",
            "office": "k.office_id",
            "state": "k.state",
            "entered_by": clerk_of,
            "created_at": "k.reported_at + interval '30 days'",
            "submitted_by": f"CASE WHEN k.state <> 'draft' THEN {clerk_of} END",
            "submitted_at": "CASE WHEN k.state <> 'draft'"
            " THEN k.reported_at + interval '31 days' END",
            "examined_by": f"CASE WHEN {decided} THEN {SUPERVISOR_OF} END",
            "examined_at": f"CASE WHEN {decided} THEN k.reported_at + interval '32 days' END",
            "decision_reason": "CASE WHEN k.state = 'rejected' THEN '票据不在期间内' ELSE '' END",
            "eligible_total": "CASE WHEN k.state IN ('approved', 'paid') THEN 300 END",
            "reimbursable_total": "CASE WHEN k.state IN ('approved', 'paid') THEN 150 END",
            "payment_reference": "CASE WHEN k.state = 'paid' THEN 'PAY' || k.n ELSE '' END",
            "paid_by": f"CASE WHEN k.state = 'paid' THEN {SUPERVISOR_OF} END",
            "paid_at": "CASE WHEN k.state = 'paid' THEN k.reported_at + interval '33 days' END",
        },
        "FROM bench_claim k",
        office_params,
    )
    insert_select(
        ClaimItem,
        {
            "claim": "k.n",
            "provider": "'第' || (k.n %% 50) || '人民医院'",
            "provider_key": "'第' || (k.n %% 50) || '人民医院'",
            "visit_date": "(k.reported_at AT TIME ZONE 'Asia/Shanghai')::date + j",
            "receipt_number": "'R' || k.n || '-' || j",
            "category": "(ARRAY['outpatient', 'inpatient', 'pharmacy'])[1 + (k.n + j) %% 3]",
            "amount": "50 + (k.n * 7 + j * 13) %% 900 + 0.5",
        },
        "FROM bench_claim k CROSS JOIN generate_series(1, 1 + k.n %% 3) j",
    )
    print(f"  claims {time.perf_counter() - began:.0f} s", file=sys.stderr)
    # The audit trail: the registration, each step of the case's path, an edit of some, and
    # the claim's entry, receipts and steps.
    rows = []
    for state, path in STEP_PATHS.items():
        rows.append((state, 0, "registered", "", "reported", not path))
        rows += [(state, j, *step, j == len(path)) for j, step in enumerate(path, start=1)]
    sql(
        "CREATE TEMP TABLE bench_path"
        " (state text, j int, action text, source text, target text, last boolean)"
    )
    with connection.cursor() as cursor:
        cursor.executemany("INSERT INTO bench_path VALUES (%s, %s, %s, %s, %s, %s)", rows)
    audit_common = {
        "actor_name": "u.username",
        "comment": "''",
        "changes": "'{}'::jsonb",
    }
    insert_select(
        AuditEntry,
        {
            "sequence": "c.n * 10 + p.j",
            "case": "c.n",
            "office": "c.office_id",
            "content_type": str(case_type),
            "object_id": "c.n",
            "action": "p.action",
            "source_state": "p.source",
            "target_state": "p.target",
            "actor": "r.handled_by_id",
            "at": "least(now(), c.reported_at + p.j * interval '4 days'"
            " + (c.n %% 100) * interval '1 minute')",
            **audit_common,
        },
        "FROM bench_case2 c JOIN bench_path p ON p.state = c.state"
        " JOIN reissue_reissuecase r ON r.id = c.n JOIN auth_user u ON u.id = r.handled_by_id"
        + (" WHERE p.j = 0 OR p.last" if light_audit else ""),
    )
    insert_select(
        AuditEntry,
        {
            "sequence": "c.n * 10 + 8",
            "case": "c.n",
            "office": "c.office_id",
            "content_type": str(case_type),
            "object_id": "c.n",
            "action": "'edited'",
            "actor": "r.handled_by_id",
            "at": "c.reported_at + interval '2 hours'",
            **audit_common,
            "changes": """'{"loss_date": ["2024-01-01", "2024-01-02"]}'::jsonb""",
        },
        "FROM bench_case2 c JOIN reissue_reissuecase r ON r.id = c.n"
        " JOIN auth_user u ON u.id = r.handled_by_id"
        f" WHERE c.roll2 < {0.03 if light_audit else 0.3}",
    )
    claim_steps = """CASE k.state WHEN 'draft' THEN 'added' WHEN 'submitted' THEN 'submit'
        WHEN 'approved' THEN 'approve' WHEN 'rejected' THEN 'reject' ELSE 'pay' END"""
    insert_select(
        AuditEntry,
        {
            "sequence": "k.n * 10 + 9",
            "case": "k.n",
            "office": "k.office_id",
            "content_type": str(claim_type),
            "object_id": "k.n",
            "action": claim_steps,
            "actor": "e.entered_by_id",
            "at": "k.reported_at + interval '33 days'",
            **audit_common,
        },
        "FROM bench_claim k JOIN claims_expenseclaim e ON e.id = k.n"
        " JOIN auth_user u ON u.id = e.entered_by_id",
    )
    print(f"  audit trail {time.perf_counter() - began:.0f} s", file=sys.stderr)
    insert_select(
        PersonalDataAccess,
        {
            "sequence": "row_number() OVER (ORDER BY c.n)",
            "kind": "'reveal'",
            "actor": "r.handled_by_id",
            "actor_name": "u.username",
            "at": "c.reported_at + interval '1 hour'",
            "content_type": str(case_type),
            "object_id": "c.n",
            "case": "c.n",
            "field": "'id_number'",
            "reason": "'核对身份'",
        },
        "FROM bench_case2 c JOIN reissue_reissuecase r ON r.id = c.n"
        " JOIN auth_user u ON u.id = r.handled_by_id WHERE c.n %% 50 = 0",
    )
    sql("SET session_replication_role = DEFAULT")
    for _name, definition in indexes:
        sql(definition)
    for model in (Applicant, ReissueCase, AuditEntry, PersonalDataAccess, ClaimItem, ExpenseClaim):
        table = model._meta.db_table
        sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
            f" (SELECT coalesce(max(id), 1) FROM {table}))"
        )
    for model in (AuditEntry, PersonalDataAccess):
        last = model.objects.order_by("-sequence").first()
        head, _created = ChainHead.objects.get_or_create(name=model.CHAIN)
        head.sequence, head.last_hash = last.sequence, last.entry_hash
        head.save()
    for k in range(40):
        incident = Incident.objects.create(
            title=f"事故 {k}：受理单误发",
            description="一份受理单交给了另一位申请人。",
            discovered_at=timezone.now() - datetime.timedelta(days=30 * k),
            reported_by=people[("Supervisor", offices[k % len(offices)].code)][0],
        )
        incident.affected_cases.set(range(1 + k * 97, 1 + k * 97 + k % 5))
    # One applicant has a real ID number, to search by.
    Applicant.objects.filter(pk=total // 2).update(
        id_number=compose(10**6), id_number_hash=id_number_digest(compose(10**6))
    )
    print(f"  indexes {time.perf_counter() - began:.0f} s", file=sys.stderr)
    connection.cursor().execute("VACUUM ANALYZE")  # as autovacuum would, before timing reads
    print(f"  seeded {total:,} cases in {time.perf_counter() - began:.0f} s", file=sys.stderr)


def warn_of_small_wal(total: int) -> None:
    """Say so when the server's checkpoints will slow a big seed down.

    A seed writes about 2.7 GB a million cases; with PostgreSQL's default max_wal_size (1 GB)
    it forces a checkpoint every gigabyte, and each rewrites whole pages to the WAL again.
    With 24 GB the 10M seed took 22 minutes (the README); it had taken 51 and more without.
    """
    if connection.vendor != "postgresql" or total < 1_000_000:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setting::bigint * 1024 * 1024 FROM pg_settings WHERE name = 'max_wal_size'"
        )
        max_wal = cursor.fetchone()[0]
    if max_wal < 16 * 1024**3:
        print(
            f"  max_wal_size is {max_wal / 1e9:.0f} GB: checkpoints will slow this seed down. "
            "For a bench server: ALTER SYSTEM SET max_wal_size = '24GB'; "
            "SELECT pg_reload_conf();",
            file=sys.stderr,
        )


def compose(n: int) -> str:
    return compose_id_number(
        "110101", datetime.date(1950, 1, 1) + datetime.timedelta(days=n % 20000), n % 1000
    )


def seeded_as(total: int, options: str) -> bool:
    """Tell whether a seed of `total` cases with `options` ran here to its end.

    The seed writes its mark last, so a seed cut short is redone. A database seeded before
    the mark existed counts as seeded when it holds `total` cases and was seeded plainly.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_seed')")
        if cursor.fetchone()[0] is None:
            return not options and ReissueCase.objects.count() == total
        cursor.execute(
            "SELECT 1 FROM bench_seed WHERE total = %s AND options = %s", [total, options]
        )
        return cursor.fetchone() is not None


def prepare(name: str, total: int, **seed_options):
    """Return a connection to database `name` holding `total` cases, seeding it if need be.

    `seed_options` go to `seed`; a database seeded otherwise, or not to the end, is seeded
    anew, and one seeded so is reused as it is.
    """
    options = ", ".join(
        f"{key}={getattr(value, '__name__', value)!r}"
        for key, value in sorted(seed_options.items())
    )
    create_database_if_missing(name)
    wrapper = database_wrapper(name)
    use_database(wrapper)
    call_command("migrate", verbosity=0)
    if not seeded_as(total, options):
        if Office.objects.exists():  # the seed's first rows
            connection.close()
            drop_database(name)
            create_database_if_missing(name)
            wrapper = database_wrapper(name)
            use_database(wrapper)
            call_command("migrate", verbosity=0)
        print(f"seeding {name} with {total:,} cases", file=sys.stderr)
        warn_of_small_wal(total)
        seed(total, **seed_options)
        sql("CREATE TABLE IF NOT EXISTS bench_seed (total bigint, options text)")
        sql("INSERT INTO bench_seed VALUES (%s, %s)", [total, options])
    return wrapper


# Timing -------------------------------------------------------------------------------------


def sortable_columns(model, user) -> list[int]:
    """Return the indexes (`?o=`) of the columns the list of `model` lets `user` sort by."""
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = user
    request.session = {}
    request._messages = []
    changelist = model_admin.get_changelist_instance(request)
    return [
        index
        for index, name in enumerate(changelist.list_display)
        if name in changelist.sortable_by and changelist.get_ordering_field(name) is not None
    ]


def list_urls(user, office: Office, id_search_url: str) -> list[tuple[str, str]]:
    """Return (label, URL) of every list, filter, search and sort to time for `user`."""
    today = timezone.localdate()
    week = urlencode(
        {
            "reported_at__gte": f"{today - datetime.timedelta(days=7)} 00:00:00+08:00",
            "reported_at__lt": f"{today + datetime.timedelta(days=1)} 00:00:00+08:00",
        }
    )
    year = today.year - 2
    cases = "/admin/reissue/reissuecase/"
    claims = "/admin/claims/expenseclaim/"
    applicants = "/admin/reissue/applicant/"
    trail = "/admin/audit/auditentry/"
    access = "/admin/audit/personaldataaccess/"
    urls = [
        ("anchor: stock list of offices", "/admin/offices/office/"),
        ("admin home (work queue)", "/admin/"),
        ("cases", cases),
        ("cases, page 2", f"{cases}?p=2"),
        ("cases, state reported", f"{cases}?state__exact=reported"),
        ("cases, state closed", f"{cases}?state__exact=closed"),
        ("cases, office", f"{cases}?office__id__exact={office.pk}"),
        ("cases, ID card only", f"{cases}?lost_items__exact=id_card"),
        ("cases, stolen", f"{cases}?loss_kind__exact=stolen"),
        ("cases, past 7 days", f"{cases}?{week}"),
        ("cases, this year", f"{cases}?reported_at__year={today.year}"),
        ("cases, overdue", f"{cases}?overdue=1"),
        ("cases, mine", f"{cases}?mine=yes"),
        ("cases, waiting for me", f"{cases}?waiting=yes"),
        ("cases, search surname 王", f"{cases}?q={quote('王')}"),
        ("cases, search rare surname 诸葛", f"{cases}?q={quote('诸葛')}"),
        ("cases, search full name", f"{cases}?q={quote('王秀英')}"),
        ("cases, search reference start", f"{cases}?q={office.code}-{year}-00"),
        ("cases, search case number", f"{cases}?q=26"),
        ("cases, search ID number", id_search_url(cases)),
        ("cases, state + surname", f"{cases}?state__exact=reported&q={quote('李')}"),
        ("claims", claims),
        ("claims, submitted", f"{claims}?state__exact=submitted"),
        ("claims, paid", f"{claims}?state__exact=paid"),
        ("claims, waiting for me", f"{claims}?queue=waiting_for_me"),
        ("claims, office", f"{claims}?office__id__exact={office.pk}"),
        ("claims, search surname 王", f"{claims}?q={quote('王')}"),
        ("claims, search rare surname", f"{claims}?q={quote('诸葛')}"),
        ("claims, search reference", f"{claims}?q={office.code}-{year}-00"),
        ("applicants", applicants),
        ("applicants, search surname 王", f"{applicants}?q={quote('王')}"),
        ("applicants, search rare surname", f"{applicants}?q={quote('诸葛')}"),
        ("applicants, search full name", f"{applicants}?q={quote('王秀英')}"),
        ("applicants, search ID number", id_search_url(applicants)),
        ("audit trail", trail),
        ("audit trail, registered", f"{trail}?action=registered"),
        ("audit trail, step reissue_ss_card", f"{trail}?action=reissue_ss_card"),
        ("audit trail, to state closed", f"{trail}?target_state=closed"),
        ("audit trail, search reference", f"{trail}?q={office.code}-{year}-000123"),
        ("access log", access),
        ("access log, reveals", f"{access}?kind__exact=reveal"),
        ("access log, field", f"{access}?field=id_number"),
        ("access log, search reference", f"{access}?q={office.code}-{year}-00"),
        ("incidents", "/admin/incidents/incident/"),
        ("incidents, reported", "/admin/incidents/incident/?state__exact=reported"),
        ("policies", "/admin/claims/reimbursementpolicy/"),
        ("policies, office", f"/admin/claims/reimbursementpolicy/?office__id__exact={office.pk}"),
        ("holidays", "/admin/workdays/calendarday/"),
        ("holidays, a year", f"/admin/workdays/calendarday/?date__year={today.year}"),
    ]
    lists = {
        ReissueCase: cases,
        ExpenseClaim: claims,
        Applicant: applicants,
        AuditEntry: trail,
        PersonalDataAccess: access,
        Incident: "/admin/incidents/incident/",
        ReimbursementPolicy: "/admin/claims/reimbursementpolicy/",
        CalendarDay: "/admin/workdays/calendarday/",
    }
    for model, url in lists.items():
        for index in sortable_columns(model, user):
            for order in (index, -index if index else "-0"):
                urls.append((f"{model._meta.model_name}, sorted ?o={order}", f"{url}?o={order}"))
    return urls


def timed(client, url: str) -> float:
    began = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - began) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def rows_drawn(client, url: str) -> int | None:
    """Return how many rows the list draws on its page (None: not a list)."""
    context = client.get(url).context
    changelist = context.get("cl") if context is not None else None
    return None if changelist is None else len(changelist.result_list)


def slowest_query(client, url: str) -> str:
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    worst = max(queries.captured_queries, key=lambda q: float(q["time"]))
    total = sum(float(q["time"]) for q in queries.captured_queries) * 1000
    slowest = float(worst["time"]) * 1000
    return f"{len(queries)} queries, {total:.0f} ms; slowest {slowest:.0f} ms: {worst['sql'][:600]}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--only",
        default="",
        help="time only pages whose label contains one of these ('|' between them), beside "
        "the anchor",
    )
    parser.add_argument("--roles", default="", help="supervisor,small office,auditor (all)")
    parser.add_argument(
        "--explain", action="store_true", help="print each large page's slowest query"
    )
    args = parser.parse_args()
    wanted = [part for part in args.only.split("|") if part]
    if connection.vendor != "postgresql":
        sys.exit("bench/lists.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    setup_test_environment()
    base = connections.settings["default"]["NAME"]
    sizes = {"small": SMALL, "large": args.cases}
    wrappers = {size: prepare(f"{base}_{total}", total) for size, total in sizes.items()}
    User = get_user_model()
    plan = []  # (label, role, {size: (client, url)})
    roles = {
        # The largest office's supervisor (a fifth of the cases), the smallest's (about 2 %:
        # its rows are met last in any order across offices) and an auditor of all offices.
        "supervisor": ("bench.supervisor.b01.0", "B01"),
        "small office": ("bench.supervisor.b20.0", "B20"),
        "auditor": ("bench.auditor", "B01"),
    }
    for role, (username, office_code) in roles.items():
        if args.roles and role not in args.roles.split(","):
            continue
        per_size = {}
        for size, wrapper in wrappers.items():
            use_database(wrapper)
            user = User.objects.get(username=username)
            client = logged_in_client(user)
            office = Office.objects.get(code=office_code)
            number = Applicant.objects.get(pk=sizes[size] // 2).id_number

            def id_search_url(changelist, client=client, number=number):
                return client.post(f"{changelist}search/", {"q": number})["Location"]

            per_size[size] = [
                (label, client, url) for label, url in list_urls(user, office, id_search_url)
            ]
        for (label, client_small, url_small), (_l, client_large, url_large) in zip(
            per_size["small"], per_size["large"], strict=True
        ):
            if wanted and not label.startswith("anchor") and not any(w in label for w in wanted):
                continue
            use_database(wrappers["small"])
            if client_small.get(url_small).status_code == 403:
                continue  # not a list of this role (the access log is the auditors')
            pages = {"small": (client_small, url_small), "large": (client_large, url_large)}
            plan.append((label, role, pages))
    samples = {(label, role, size): [] for label, role, _pages in plan for size in sizes}
    drawn = {}  # (label, role, size): the rows on the page
    for size, wrapper in wrappers.items():  # warm each page once
        use_database(wrapper)
        for label, role, pages in plan:
            drawn[(label, role, size)] = rows_drawn(*pages[size])
    for round_number in range(args.rounds):
        order = ["small", "large"] if round_number % 2 == 0 else ["large", "small"]
        for label, role, pages in plan:
            for size in order:
                use_database(wrappers[size])
                samples[(label, role, size)].append(timed(*pages[size]))
        print(f"  round {round_number + 1} of {args.rounds}", file=sys.stderr)
    print(
        f"PostgreSQL; median of {args.rounds} requests each, small and large alternated; "
        f"{sizes['small']:,} against {sizes['large']:,} cases"
    )
    use_database(wrappers["large"])
    print(
        f"(large: {AuditEntry.objects.count():,} audit entries, "
        f"{ExpenseClaim.objects.count():,} claims, {Applicant.objects.count():,} applicants)"
    )
    print(
        f"| page | user | {sizes['small']:,} ms | {sizes['large']:,} ms | ratio | < {GOAL_MS} ms "
        "| rows drawn, small / large |"
    )
    print("|---|---|---|---|---|---|---|")
    failures, fewer_rows = 0, 0  # fewer_rows: of the failures, pages drawing fewer when small
    for label, role, pages in plan:
        small = statistics.median(samples[(label, role, "small")])
        large = statistics.median(samples[(label, role, "large")])
        rows = drawn[(label, role, "small")], drawn[(label, role, "large")]
        ok = large < GOAL_MS and large <= 1.5 * small
        failures += not ok
        fewer_rows += not ok and large < GOAL_MS and None not in rows and rows[0] < rows[1]
        shown_rows = "" if None in rows else f"{rows[0]} / {rows[1]}"
        print(
            f"| {label} | {role} | {small:.0f} | {large:.0f} | {large / small:.2f} | "
            f"{'yes' if ok else 'NO'} | {shown_rows} |"
        )
        if args.explain:
            print(f"    {slowest_query(*pages['large'])}")
    print(f"{len(plan) - failures} of {len(plan)} pages under {GOAL_MS} ms and within 1.5x")
    print(
        f"of the {failures} others, {fewer_rows} are under {GOAL_MS} ms and draw fewer rows at "
        f"{sizes['small']:,} cases than at {sizes['large']:,} (the small page is no like page)"
    )


if __name__ == "__main__":
    main()
