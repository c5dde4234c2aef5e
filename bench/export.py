"""Time the encryption of personal numbers and the streamed CSV export at N cases, interleaved.

    psql -h 127.0.0.1 -U postgres -c 'create database reissue_bench_export'
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reissue_bench_export \
        .venv/bin/python bench/export.py --cases 20000 --rounds 5

Prints, in one run:

1. Per value, the CPU µs to encrypt and to decrypt an ID number (18 characters) and a phone
   number (11), the Fernet tokens of before against the AES-GCM tokens of now
   (common/encryption.py, as the fields call it), and a Fernet token of the second key (a row
   not yet rotated). Then the bare AEAD primitives of `cryptography` on an 18-byte text, the
   measurement behind the choice of AES-GCM. Samples of each alternate, round after round;
   the median is printed.
2. The CSV export of N cases (every column), in rows per second, median of --rounds, each
   sample in a fresh subprocess (so its peak memory is its own), the variants alternated
   round by round so that a busy moment of the shared machine hits all of them alike. Beside
   the rate, the CPU time of the exporting process per row (COPY's work is the server's):
   - "copy": PostgreSQL's COPY (same query) TO STDOUT as CSV: no Python per row, the numbers
     left encrypted. The floor.
   - "copy-fed": that COPY read back by csv.reader in Python, its encrypted cells decrypted,
     written again by csv.writer: the floor of an export fed by COPY (no labels, dates or
     escaping yet), the design it would take to come within 3x of COPY.
   - "plain": csv.writer over the rows of the same query read from a server-side cursor: no
     decryption, masking, escaping or translation.
   - "plain+decrypt": csv.writer over `values_list` (Django decrypts the numbers): the least
     any Python export showing numbers costs.
   - "ours" (a supervisor: full numbers, one access-log row), "ours-masked": the admin's
     export view through Django's test client, the streamed response read to its end.
   - "ours-fernet": ours over N other cases whose numbers are Fernet tokens of before.

Migrates the database named in DATABASE_URL and fills it with N cases of office BA
(AES-GCM) and N of office BF (Fernet) by bulk insert, once; a later run reuses them (all of
them: give each size a database of its own).
"""

import argparse
import codecs
import contextlib
import csv
import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from cryptography.fernet import Fernet  # noqa: E402
from cryptography.hazmat.primitives.ciphers import aead  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group, Permission  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.sessions import logged_in_client  # noqa: E402
from common import encryption, fields  # noqa: E402
from common.id_numbers import (  # noqa: E402
    birth_date_from_id_number,
    compose_id_number,
    id_number_digest,
    sex_from_id_number,
)
from offices.models import Office  # noqa: E402
from reissue.case_workflow import CASE_WORKFLOW  # noqa: E402
from reissue.models import Applicant, CaseFlag, CaseState, ReissueCase  # noqa: E402
from reissue.resources import CaseResource  # noqa: E402

# Office code -> (the region of its applicants' numbers, the format its numbers are stored in).
OFFICES = {"BA": ("110102", "v2."), "BF": ("110103", "gAAAAA")}
STATES = list(CaseState.values)
# The states whose cases have their new SS card's number (case_ss_card_number_once_reissued).
CARD_NUMBER_KNOWN = set(CASE_WORKFLOW.flagged(CaseFlag.CARD_NUMBER_KNOWN))
BATCH = 5000
SUPERVISOR, EXPORTER = "bench.export.supervisor", "bench.export.masked"
VARIANTS = ["copy", "copy-fed", "plain", "plain+decrypt", "ours", "ours-masked", "ours-fernet"]


# Seeding ---------------------------------------------------------------------------------


def applicant(n: int, region: str) -> Applicant:
    # Bulk inserts skip Applicant.save(): set what it would derive from the number.
    number = compose_id_number(
        region, datetime.date(1950, 1, 1) + datetime.timedelta(days=n // 1000), n % 1000
    )
    return Applicant(
        name=f"申请人{n}",
        id_number=number,
        id_number_hash=id_number_digest(number),
        birth_date=birth_date_from_id_number(number),
        sex=sex_from_id_number(number),
        phone=f"138{n:08d}",
        hukou_address="北京市东城区幸福路1号",
        hukou_police_station="东城派出所",
    )


def case(n: int, person: Applicant, office: Office, clerk) -> ReissueCase:
    state = STATES[n % len(STATES)]
    agent = n % 10 == 0
    return ReissueCase(
        reference=f"{office.code}-2026-{n:07d}",
        applicant=person,
        applicant_name=person.name,  # bulk inserts skip ReissueCase.save()
        office=office,
        lost_items="both",
        loss_kind="lost",
        loss_date=datetime.date(2026, 1, 1),
        reported_at=timezone.now() - datetime.timedelta(seconds=n),
        handled_by=clerk,
        state=state,
        agent_acts=agent,
        agent_name=f"代办人{n}" if agent else "",
        agent_id_number=compose_id_number("310101", datetime.date(1980, 1, 1), n % 1000)
        if agent
        else "",
        cancel_reason="申请人已找回卡片" if state == CaseState.CANCELLED else "",
        # A temporary report lapses (constraint case_temporary_report_lapses).
        lapses_at=timezone.now() + datetime.timedelta(days=7)
        if state == CaseState.REPORTED_TEMPORARILY
        else None,
        ss_card_number=f"SS{office.code}{n:08d}" if state in CARD_NUMBER_KNOWN else "",
    )


def users(offices: list[Office]):
    User = get_user_model()
    supervisor, _ = User.objects.get_or_create(username=SUPERVISOR, is_staff=True)
    supervisor.groups.add(Group.objects.get(name="Supervisor"))
    exporter, _ = User.objects.get_or_create(username=EXPORTER, is_staff=True)
    exporter.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="reissue", codename__in=["view_reissuecase", "export_cases"]
        )
    )
    for office in offices:
        office.staff.add(supervisor, exporter)
    return supervisor


def fernet_encrypt(text: str, *, context: bytes = b"") -> str:
    """Encrypt as the code before did: a Fernet token of the first key, bound to nothing."""
    return encryption.keyring().fernet.encrypt(text.encode()).decode()


def seed_office(code: str, total: int, clerk) -> None:
    office = Office.objects.get(code=code)
    region, prefix = OFFICES[code]
    have = ReissueCase.objects.filter(office=office).count()
    began = time.perf_counter()
    # The Fernet office is written as the code before wrote its rows.
    fernet = mock.patch.object(fields, "encrypt", fernet_encrypt)
    with fernet if code == "BF" else contextlib.nullcontext():
        for start in range(have, total, BATCH):
            numbers = range(start, min(start + BATCH, total))
            people = Applicant.objects.bulk_create([applicant(n, region) for n in numbers])
            ReissueCase.objects.bulk_create(
                case(n, person, office, clerk) for n, person in zip(numbers, people, strict=True)
            )
            if (numbers[-1] + 1) % 50000 == 0 or numbers[-1] + 1 == total:
                elapsed = time.perf_counter() - began
                print(
                    f"  {code}: seeded {numbers[-1] + 1:,} cases ({elapsed:.0f} s)", file=sys.stderr
                )
    stored = Applicant.objects.filter(cases__office=office).values_list("id", flat=True)[:1]
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM reissue_applicant WHERE id = %s", [stored[0]])
        assert cursor.fetchone()[0].startswith(prefix), f"{code}'s rows are not {prefix}..."


def seed(total: int) -> None:
    offices = [
        Office.objects.get_or_create(code=code, defaults={"name": f"Export bench {code}"})[0]
        for code in OFFICES
    ]
    clerk = users(offices)
    for office in offices:
        seed_office(office.code, total, clerk)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # as autovacuum would, before timing reads


# Per value --------------------------------------------------------------------------------

ID_NUMBER, PHONE = b"reissue_applicant.id_number", b"reissue_applicant.phone"


def per_value_samples(rounds: int, size: int = 2000) -> dict[str, list[float]]:
    """Return the µs per value of each operation, one sample per round, alternated."""
    numbers = [compose_id_number("110101", datetime.date(1980, 1, 1), n) for n in range(size)]
    phones = [f"138{n:08d}" for n in range(size)]
    aes = [encryption.encrypt(n, context=ID_NUMBER) for n in numbers]
    aes_phones = [encryption.encrypt(p, context=PHONE) for p in phones]
    old = [fernet_encrypt(n) for n in numbers]
    second_key = Fernet(settings.FIELD_ENCRYPTION_KEYS[1])  # MultiFernet tries the first first
    old_second = [second_key.encrypt(n.encode()).decode() for n in numbers]
    operations = {
        "encrypt ID number, Fernet": lambda: [fernet_encrypt(n) for n in numbers],
        "encrypt ID number, AES-GCM": lambda: [
            encryption.encrypt(n, context=ID_NUMBER) for n in numbers
        ],
        "encrypt phone, AES-GCM": lambda: [encryption.encrypt(p, context=PHONE) for p in phones],
        "decrypt ID number, Fernet": lambda: [encryption.decrypt(t) for t in old],
        "decrypt ID number, Fernet 2nd key": lambda: [encryption.decrypt(t) for t in old_second],
        "decrypt ID number, AES-GCM": lambda: [
            encryption.decrypt(t, context=ID_NUMBER) for t in aes
        ],
        "decrypt phone, AES-GCM": lambda: [
            encryption.decrypt(t, context=PHONE) for t in aes_phones
        ],
    }
    return alternate(operations, rounds, size)


def primitive_samples(rounds: int, size: int = 2000) -> dict[str, list[float]]:
    """Return the µs of a seal and an open of 18 bytes with each AEAD of `cryptography`."""
    key, text, context = os.urandom(32), b"11010119800101001X", ID_NUMBER
    operations = {}
    for name in ["AESGCM", "ChaCha20Poly1305", "AESOCB3", "AESGCMSIV"]:
        cipher = getattr(aead, name)(key)
        nonce = os.urandom(12)
        sealed = cipher.encrypt(nonce, text, context)

        def seal_and_open(cipher=cipher, nonce=nonce, sealed=sealed):
            for _ in range(size):
                cipher.encrypt(os.urandom(12), text, context)
                cipher.decrypt(nonce, sealed, context)

        operations[f"{name} seal + open"] = seal_and_open
    return alternate(operations, rounds, size)


def alternate(operations: dict, rounds: int, size: int) -> dict[str, list[float]]:
    samples = {name: [] for name in operations}
    for _ in range(rounds):
        for name, run in operations.items():
            began = time.process_time()  # CPU time: a loaded machine's waits left out
            run()
            samples[name].append((time.process_time() - began) / size * 1e6)
    return samples


# Export -----------------------------------------------------------------------------------


def exported_rows(office: str):
    return (
        ReissueCase.objects.filter(office__code=office)
        .order_by("-reported_at", "-id")
        .values_list(*CaseResource.columns.sources)
    )


def export_ours(username: str, office_code: str) -> int:
    """Export every case of the office through the admin's export view; return bytes read."""
    client = logged_in_client(get_user_model().objects.get(username=username))
    fields = {f"caseresource_{name}": "on" for name in CaseResource().get_export_order()}
    office = Office.objects.get(code=office_code)
    url = reverse("admin:reissue_reissuecase_export") + f"?office__id__exact={office.pk}"
    response = client.post(url, {"format": "0", "resource": "0", **fields})
    assert response.status_code == 200 and response.streaming, response.status_code
    return sum(len(chunk) for chunk in response.streaming_content)


class Discard:
    def __init__(self) -> None:
        self.size = 0

    def write(self, text: str) -> None:
        self.size += len(text)


def export_plain_decrypted() -> int:
    """Write the same columns with csv.writer over values_list (which decrypts)."""
    sink = Discard()
    with transaction.atomic():  # as ours: PostgreSQL streams the cursor, no WITH HOLD
        csv.writer(sink).writerows(exported_rows("BA").iterator(chunk_size=2000))
    return sink.size


def export_plain() -> int:
    """Write the rows of the same SQL with csv.writer, read from a server-side cursor as they
    are stored (numbers encrypted): what Python costs without Django or decryption."""
    sql, params = exported_rows("BA").query.sql_with_params()
    sink = Discard()
    with transaction.atomic():
        connection.ensure_connection()
        with connection.connection.cursor(name="bench_plain") as cursor:
            cursor.itersize = 2000
            cursor.execute(sql, params)
            csv.writer(sink).writerows(cursor)
    return sink.size


def export_copy() -> int:
    """Have PostgreSQL write the same SQL's rows as CSV (COPY ... TO STDOUT)."""
    sql, params = exported_rows("BA").query.sql_with_params()
    size = 0
    with connection.cursor() as cursor:
        statement = cursor.mogrify(sql, params)
        statement = statement.decode() if isinstance(statement, bytes) else statement
        with cursor.cursor.copy(f"COPY ({statement}) TO STDOUT (FORMAT csv)") as copy:
            for block in copy:
                size += len(block)
    return size


def _encrypted_columns() -> list[tuple[int, bytes]]:
    """Return (position, encryption context) of the exported columns held encrypted."""
    found = []
    for position, source in enumerate(CaseResource.columns.sources):
        model, field = ReissueCase, None
        for part in source.split("__"):
            field = model._meta.get_field(part)
            model = field.related_model or model
        if isinstance(field, fields.EncryptedCharField):
            found.append((position, field.encryption_context))
    return found


def _lines(copy) -> Iterator[str]:
    """The text of COPY's blocks, line by line (csv.reader joins a quoted newline's lines)."""
    decoder, tail = codecs.getincrementaldecoder("utf-8")(), ""
    for block in copy:
        *lines, tail = (tail + decoder.decode(bytes(block))).split("\n")
        yield from (line + "\n" for line in lines)
    if tail:
        yield tail


def export_copy_fed() -> int:
    """COPY's CSV read back in Python, its encrypted cells decrypted, written again."""
    encrypted = _encrypted_columns()
    sql, params = exported_rows("BA").query.sql_with_params()
    sink = Discard()
    writer = csv.writer(sink)
    with transaction.atomic(), connection.cursor() as cursor:
        statement = cursor.mogrify(sql, params)
        statement = statement.decode() if isinstance(statement, bytes) else statement
        with cursor.cursor.copy(f"COPY ({statement}) TO STDOUT (FORMAT csv)") as copy:
            for row in csv.reader(_lines(copy)):
                for position, context in encrypted:
                    if row[position]:
                        row[position] = encryption.decrypt(row[position], context=context)
                writer.writerow(row)
    return sink.size


EXPORTS = {
    "copy": export_copy,
    "copy-fed": export_copy_fed,
    "plain": export_plain,
    "plain+decrypt": export_plain_decrypted,
    "ours": lambda: export_ours(SUPERVISOR, "BA"),
    "ours-masked": lambda: export_ours(EXPORTER, "BA"),
    "ours-fernet": lambda: export_ours(SUPERVISOR, "BF"),
}


def measure(which: str) -> dict:
    """Run one export in this (fresh) process and return its figures."""
    office = "BF" if which == "ours-fernet" else "BA"
    count = ReissueCase.objects.filter(office__code=office).count()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began, cpu_began = time.perf_counter(), time.process_time()
    size = EXPORTS[which]()
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    growth = (rss_after - rss_before) * 1024  # ru_maxrss is in KiB on Linux
    return {"rows": count, "seconds": seconds, "cpu": cpu, "bytes": size, "rss_growth": growth}


def in_subprocess(which: str) -> dict:
    command = [sys.executable, __file__, "--measure", which]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.splitlines()[-1])


# Report -----------------------------------------------------------------------------------


def report_per_value(rounds: int) -> None:
    print(f"Per value (CPU µs, median of {rounds} alternated rounds of 2,000 values):")
    samples = per_value_samples(rounds)
    for name, values in samples.items():
        print(f"  {name:<36} {statistics.median(values):6.2f}")
    fernet = statistics.median(samples["decrypt ID number, Fernet"])
    aes = statistics.median(samples["decrypt ID number, AES-GCM"])
    print(f"  decrypting an ID number: AES-GCM costs {aes / fernet:.0%} of Fernet")
    print("Bare AEAD primitives of cryptography, 18 bytes (CPU µs, median):")
    for name, values in primitive_samples(rounds).items():
        print(f"  {name:<36} {statistics.median(values):6.2f}")


def report_exports(rounds: int) -> None:
    count = ReissueCase.objects.filter(office__code="BA").count()
    print(
        f"Export, {connection.vendor}, {count:,} cases, {len(CaseResource.columns.sources)} "
        f"columns (rows/s, median of {rounds} alternated rounds, a fresh process each):"
    )
    samples = {which: [] for which in VARIANTS}
    for _ in range(rounds):
        for which in VARIANTS:
            samples[which].append(in_subprocess(which))
    rates = {}
    for which, runs in samples.items():
        spread = [run["rows"] / run["seconds"] for run in runs]
        rates[which] = statistics.median(spread)
        cpu = statistics.median(run["cpu"] / run["rows"] * 1e6 for run in runs)
        growth = max(run["rss_growth"] for run in runs)
        print(
            f"  {which:<14} {rates[which]:>9,.0f} rows/s  (samples {min(spread):,.0f}-"
            f"{max(spread):,.0f}; this process's CPU {cpu:5.1f} µs/row; "
            f"{runs[0]['bytes'] / 2**20:5.1f} MiB; peak RSS growth up to {growth / 2**20:4.1f} MiB)"
        )
    # The ratio within each round: its samples ran side by side, under the same load.
    rate = lambda run: run["rows"] / run["seconds"]  # noqa: E731
    for which in VARIANTS[1:]:
        ratio = statistics.median(
            rate(copy) / rate(run)
            for copy, run in zip(samples["copy"], samples[which], strict=True)
        )
        print(f"  COPY / {which}: {rates['copy'] / rates[which]:.1f}x (per round: {ratio:.1f}x)")
    gain = statistics.median(
        rate(run) / rate(old)
        for run, old in zip(samples["ours"], samples["ours-fernet"], strict=True)
    )
    print(f"  ours (AES-GCM) / ours-fernet: {gain:.2f}x the rows/s (per round)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed-only", action="store_true")
    parser.add_argument("--measure", choices=VARIANTS, help="internal")
    args = parser.parse_args()
    setup_test_environment()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    call_command("migrate", verbosity=0)
    seed(args.cases)
    if args.seed_only:
        return
    report_per_value(max(args.rounds, 7))
    report_exports(args.rounds)


if __name__ == "__main__":
    main()
