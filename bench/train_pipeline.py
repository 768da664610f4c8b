"""Benchmark: a full `attrition train` run at 1,470 (IBM_CSV), 100,000 and 1,000,000 rows.

    .venv/bin/python bench/train_pipeline.py [--sizes 1470,100000,1000000]

Each size runs in its own process (so peak RSS is that run's), against a throwaway PostgreSQL
cluster and a local MLflow tracking server (sqlite store, local artifacts). Prints wall time
per pipeline step and the process's peak RSS; the reference is the training VM's 8 GB.
"""

from __future__ import annotations

import argparse
import logging
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from testkit.paths import IBM_CSV

VM_MEMORY_MB = 8 * 1024


class StepTimes(logging.Handler):
    pattern = re.compile(r"step (.+): done in ([0-9.]+) s")

    def __init__(self):
        super().__init__()
        self.steps: dict[str, float] = {}

    def emit(self, record):
        found = self.pattern.search(record.getMessage())
        if found:
            self.steps[found.group(1)] = float(found.group(2))


def one(rows: int) -> None:
    """Load `rows` rows, train once, print step times and peak RSS (child process)."""
    import mlflow
    import psycopg2

    from attrition import generator, loader
    from attrition.training import pipeline
    from attrition.training.settings import TrainingSettings
    from testkit.mlflow_server import tracking_server
    from testkit.pgcluster import create_app_database, throwaway_cluster

    times = StepTimes()
    logging.getLogger("attrition").addHandler(times)
    logging.getLogger("attrition").setLevel(logging.INFO)
    with tempfile.TemporaryDirectory() as tmp, throwaway_cluster() as sock:
        dsn = create_app_database(sock, "bench")
        path = IBM_CSV if rows == 1470 else Path(tmp) / "employees.csv"
        if rows != 1470:
            generator.write_csv(generator.generate(rows, 7), path)
        conn = psycopg2.connect(dsn)
        loader.load_csv(conn, path)
        conn.close()
        with tracking_server(Path(tmp) / "mlflow") as url:
            mlflow.set_tracking_uri(url)
            started = time.perf_counter()
            code = pipeline.run(TrainingSettings(database_dsn=dsn))
            total = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    steps = " | ".join(f"{k} {v:.1f}" for k, v in times.steps.items())
    print(f"RESULT rows={rows} exit={code} total={total:.1f}s peak_rss={peak:.0f}MB :: {steps}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1470,100000,1000000")
    ap.add_argument("--one", type=int)
    args = ap.parse_args()
    if args.one:
        one(args.one)
        return
    print(f"{'rows':>9} {'total s':>8} {'peak RSS MB':>12} {'of 8 GB':>8}  steps (s)")
    for rows in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(rows)], capture_output=True, text=True
        )
        line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT")), None)
        if line is None:
            print(f"{rows:>9} failed:\n{out.stderr[-2000:]}")
            continue
        fields = dict(kv.split("=") for kv in line.split(" :: ")[0].split()[1:])
        peak = float(fields["peak_rss"].rstrip("MB"))
        print(
            f"{rows:>9} {fields['total'].rstrip('s'):>8} {peak:>12.0f} "
            f"{100 * peak / VM_MEMORY_MB:>7.0f}%  {line.split(' :: ')[1]}"
        )


if __name__ == "__main__":
    main()
