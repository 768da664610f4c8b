"""The `attrition` command as a user runs it: exit codes, messages, summary line."""

from __future__ import annotations

import json
import re

from testkit.cli import run_cli
from testkit.csv_files import edit_line, write_rows


def test_generate_then_load(tmp_path, app_db, conn):
    out = tmp_path / "s.csv"
    gen = run_cli("generate-data", "--rows", "300", "--seed", "5", "--out", str(out))
    assert gen.returncode == 0, gen.stderr
    assert "wrote 300 rows" in gen.stderr
    load = run_cli("load-data", "--csv", str(out), "--kind", "synthetic", dsn=app_db)
    assert load.returncode == 0, load.stderr
    assert re.fullmatch(
        rf"{out}: snapshot load \d+ \(synthetic\): inserted 300, updated 0, deleted 0,"
        r" unchanged 0, rejected 0",
        load.stdout.strip(),
    )
    status = run_cli("data-status", dsn=app_db)
    assert status.returncode == 0, status.stderr
    assert "300 rows, synthetic: load " in status.stdout
    assert "s.csv (synthetic, 300 rows)" in status.stdout
    as_json = json.loads(run_cli("data-status", "--json", dsn=app_db).stdout)
    assert (as_json["rows"], as_json["kind"], as_json["data.identity"]) == (
        300,
        "synthetic",
        "synthetic:s.csv",
    )


def test_synthetic_over_real_is_refused_with_exit_4(tmp_path, app_db, conn):
    real, synthetic = write_rows(tmp_path / "real.csv"), write_rows(tmp_path / "syn.csv", seed=2)
    assert run_cli("load-data", "--csv", str(real), dsn=app_db).returncode == 0
    load = run_cli("load-data", "--csv", str(synthetic), "--kind", "synthetic", dsn=app_db)
    assert load.returncode == 4
    assert "not loaded: training.employees holds real data" in load.stdout
    assert "synthetic data is never written over it" in load.stdout
    again = run_cli("load-data", "--csv", str(real), "--unless-loaded", dsn=app_db)
    assert again.returncode == 0
    assert "not loaded: this file is already loaded (load " in again.stdout


def test_bad_file_exit_code_and_message(tmp_path, app_db, conn):
    path = edit_line(write_rows(tmp_path / "f.csv"), 9, "DistanceFromHome", "far")
    load = run_cli("load-data", "--csv", str(path), dsn=app_db)
    assert load.returncode == 2
    assert "row 8 (line 9), column DistanceFromHome: 'far' is not an integer" in load.stderr
    assert load.stdout.strip() == f"{path}: not loaded: rejected 1 rows"
