"""Time and peak memory of hostile uploads to the admin's import page, through the test client.

    .venv/bin/python bench/import_bombs.py [--only NAME ...]

The files of the security review (issue 9), each posted once in a fresh subprocess on a
fresh, migrated SQLite database: an XLSX of a few hundred KB whose one shared string unpacks
to 300 MB; XLSX files of 100,000 and 1,000,000 one-cell rows; a 50 MB CSV of good rows whose
last row is bad; and, for scale, a good CSV of 20,000 rows (the browser's row limit).
Prints the upload's size, the seconds, the process's peak RSS and what the page said.
Figures only; nothing is asserted.
"""

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.import_cases import prepare_database, write_csv  # noqa: E402

BOMBS = ["shared_string_300mb", "rows_100k", "rows_1m", "csv_50mb_bad_last_row", "csv_20k_good"]


def xlsx_with_shared_string(path: Path, size: int) -> None:
    """Write a workbook whose second row names a shared string of `size` letters."""
    from tests.imports.conftest import handmade_xlsx

    path.write_bytes(
        handmade_xlsx([[0, 1], [2, 3]], strings=["office", "name", "BX"], huge_string=size)
    )


def xlsx_rows(path: Path, rows: int) -> None:
    """Write a workbook of a `name` header and `rows` one-cell rows."""
    from tests.imports.conftest import handmade_xlsx

    path.write_bytes(handmade_xlsx(([1] for _ in range(rows)), strings=["name", "x"]))


def csv_with_bad_last_row(path: Path, size: int) -> None:
    rows = 1000
    write_csv(path, rows)
    per_row = path.stat().st_size / rows
    write_csv(path, int(size / per_row))
    with path.open("a", encoding="utf-8") as out:
        out.write("BX,王伟,110101198005171234,13800000000,北京,东城,both,lost,2024-01-01,1,0\n")


def build(name: str, folder: Path) -> Path:
    if name == "shared_string_300mb":
        path = folder / f"{name}.xlsx"
        xlsx_with_shared_string(path, 300 << 20)
    elif name.startswith("rows_"):
        path = folder / f"{name}.xlsx"
        xlsx_rows(path, 100_000 if name == "rows_100k" else 1_000_000)
    elif name == "csv_50mb_bad_last_row":
        path = folder / f"{name}.csv"
        csv_with_bad_last_row(path, 50_000_000)
    else:
        path = folder / f"{name}.csv"
        write_csv(path, 20_000)
    return path


def measure(path: Path) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from bench.sessions import logged_in_client

    setup_test_environment()
    _office, user = prepare_database()
    client = logged_in_client(user)
    data = path.read_bytes()
    fmt = "1" if path.suffix == ".xlsx" else "0"
    started = time.perf_counter()
    response = client.post(
        reverse("admin:reissue_reissuecase_import"),
        {"resource": "0", "format": fmt, "import_file": SimpleUploadedFile(path.name, data)},
    )
    seconds = time.perf_counter() - started
    page = response.content.decode()
    said = re.findall(r'<ul class="errorlist[^"]*"[^>]*><li>(.*?)</li>', page)
    if not said and "confirm_form" in (response.context or {}):
        said = ["preview offered for confirmation"]
    if not said and response.status_code == 302 and "/import/" in response.url:
        said = ["sent to a worker (more than IMPORT_IN_REQUEST_MAX_ROWS rows)"]
    if not said and "Some rows failed to validate" in page:
        said = ["rows failed to validate"]
    return {
        "seconds": seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "status": response.status_code,
        "page_mb": len(response.content) / 1e6,
        "said": (said or ["?"])[0][:160],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=BOMBS, default=BOMBS)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    if options.measure:
        print(json.dumps(measure(options.measure)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-bombs-") as folder:
        for name in options.only:
            path = build(name, Path(folder))
            env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder}/{name}.sqlite3"}
            output = subprocess.run(
                [sys.executable, __file__, "--measure", str(path)],
                env=env,
                check=True,
                stdout=subprocess.PIPE,
                text=True,
            ).stdout
            got = json.loads(output.strip().splitlines()[-1])
            print(
                f"{name:24} {path.stat().st_size / 1e6:7.2f} MB  {got['seconds']:7.1f} s  "
                f"peak RSS {got['peak_rss_mb']:7.0f} MB  HTTP {got['status']}  "
                f"page {got['page_mb']:.1f} MB  {got['said']}",
                flush=True,
            )


if __name__ == "__main__":
    main()
