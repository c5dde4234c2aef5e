"""Peak Python memory of an XLSX built in the background: the rows written straight into
openpyxl's write-only workbook (now) against a tablib Dataset of every row first (before).

    .venv/bin/python bench/xlsx_memory.py --rows 20000

The rows are made in the script, shaped like a case's export row (42 cells: text, an ID
number, dates, date-times, booleans), each a fresh list as the resource's cell function
gives it; the database read is the same in both and left out. Both run in this process,
alternated, each measured by tracemalloc's peak from its own start (the workbook's bytes
included). Prints the peak of each and their ratio.
"""

import argparse
import datetime
import os
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

import tablib  # noqa: E402

from reissue.admin_exports import SpreadsheetXLSX  # noqa: E402

HEADERS = [f"column {i}" for i in range(42)]
DAY = datetime.date(2026, 12, 1)
MOMENT = datetime.datetime(2026, 12, 1, 9, 30)


def rows(count: int):
    for i in range(count):
        yield [
            f"DC-2026-{i:06d}",
            "DC",
            "已挂失",
            f"王小明{i}",
            f"11010519491231{i % 10000:04d}",
            f"1380013{i % 10000:04d}",
            "身份证、社保卡",
            *(DAY, MOMENT, True, False) * 8,
            *(f"备注 {i}",) * 3,
        ]


def via_dataset(count: int) -> bytes:
    dataset = tablib.Dataset(headers=HEADERS)
    for row in rows(count):
        dataset.append(row)
    dataset.title = "补办案件 DC 2026-12-01"
    return SpreadsheetXLSX().export_data(dataset)


def streamed(count: int) -> bytes:
    return SpreadsheetXLSX().export_rows("补办案件 DC 2026-12-01", HEADERS, rows(count))


def peak(build, count: int) -> tuple[int, int]:
    tracemalloc.start()
    content = build(count)
    _current, highest = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return highest, len(content)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    peaks = {"dataset (before)": [], "streamed (now)": []}
    for _round in range(args.rounds):
        for name, build in (("dataset (before)", via_dataset), ("streamed (now)", streamed)):
            highest, size = peak(build, args.rows)
            peaks[name].append(highest)
    before, now = min(peaks["dataset (before)"]), min(peaks["streamed (now)"])
    print(f"XLSX of {args.rows:,} rows x {len(HEADERS)} cells ({size / 1e6:.1f} MB file)")
    for name, values in peaks.items():
        print(f"  {name:18} peak {min(values) / 1e6:8.1f} MB")
    print(f"  streamed / dataset: {now / before:.2f}")


if __name__ == "__main__":
    main()
