"""Benchmark: generate and load 1,000,000 employee rows; baseline: row-by-row INSERT.

    .venv/bin/python bench/load_data.py [--rows 1000000] [--baseline-rows 100000]

Runs against a throwaway PostgreSQL cluster (the distribution's binaries, default settings,
fsync on). The baseline is what the prototype did: one parameterised INSERT ... ON CONFLICT per
row (psycopg2 executemany), in one transaction, on a subset; rows/s are compared.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import psycopg2

from attrition import columns, generator, loader, records
from testkit.pgcluster import create_app_database, throwaway_cluster


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label, fn, *args):
    started = time.perf_counter()
    result = fn(*args)
    seconds = time.perf_counter() - started
    print(f"{label:<44} {seconds:8.2f} s   peak RSS {peak_rss_mb():7.0f} MB", flush=True)
    return result, seconds


def baseline_insert(dsn: str, frame) -> None:
    cols = ", ".join(columns.SQL_NAMES)
    marks = ", ".join(["%s"] * len(columns.SQL_NAMES))
    statement = (
        f"INSERT INTO training.employees ({cols}) VALUES ({marks})"  # noqa: S608 - names are ours
        " ON CONFLICT (employee_number) DO NOTHING"
    )
    rows = [
        tuple(v.item() if hasattr(v, "item") else v for v in row)
        for row in frame.itertuples(index=False)
    ]
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        cur.executemany(statement, rows)
    conn.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--baseline-rows", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, throwaway_cluster() as sock:
        path = Path(tmp) / "employees.csv"
        frame, t_gen = timed(f"generate {args.rows:,} rows", generator.generate, args.rows, 7)
        _, t_write = timed("write the CSV", generator.write_csv, frame, path)
        print(f"{'file size':<44} {path.stat().st_size / 1e6:8.1f} MB")
        _, t_validate = timed("validate only (records.read)", records.read, path)
        ours = create_app_database(sock, "ours")
        conn = psycopg2.connect(ours)
        result, t_load = timed("load-data: validate + COPY + upsert", loader.load_csv, conn, path)
        print(f"{'':<44} {result}")
        again, t_reload = timed("load-data again (all unchanged)", loader.load_csv, conn, path)
        print(f"{'':<44} {again}")
        # A snapshot that drops a tenth of the employees: the rows absent from it are deleted.
        smaller = Path(tmp) / "smaller.csv"
        generator.write_csv(frame.iloc[: len(frame) * 9 // 10], smaller)
        fewer, t_snap = timed(
            "snapshot without 10 % (deletes them)", loader.load_csv, conn, smaller
        )
        print(f"{'':<44} {fewer}")
        conn.close()
        base = create_app_database(sock, "baseline")
        subset = frame.head(args.baseline_rows)
        _, t_base = timed(
            f"baseline: INSERT per row, {len(subset):,} rows", baseline_insert, base, subset
        )
        ours_rate, base_rate = args.rows / t_load, len(subset) / t_base
        print(
            f"\nrows/s: load-data {ours_rate:,.0f} (incl. validation), baseline {base_rate:,.0f}"
            f" -> {ours_rate / base_rate:.1f}x"
        )
        print(
            f"generate+write {args.rows:,} rows: {t_gen + t_write:.1f} s;"
            f" validate {t_validate:.1f} s; reload {t_reload:.1f} s; snapshot with deletes"
            f" {t_snap:.1f} s"
        )


if __name__ == "__main__":
    main()
