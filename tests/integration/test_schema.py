"""The migrations: the table matches the column contract; each migration runs exactly once."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from attrition import columns, features
from testkit.pgcluster import hand_over, run_migrations


def _columns(conn, schema, table):
    with conn.cursor() as cur:
        cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (schema, table),
        )
        return cur.fetchall()


def test_employees_table_matches_the_contract(conn):
    found = _columns(conn, "training", "employees")
    expected = [
        (name, "integer" if isinstance(col, columns.IntColumn) else "text")
        for name, col in zip(columns.SQL_NAMES, columns.COLUMNS)
    ]
    assert found[: len(expected)] == expected
    assert [c for c, _ in found[len(expected) :]] == ["loaded_at", "updated_at", "load_id"]


def test_predictions_table_has_the_20_features(conn):
    names = [c for c, _ in _columns(conn, "predictions", "predictions")]
    assert [n for n in names if n in features.NAMES] == list(features.NAMES)
    for needed in (
        "request_id",
        "user_id",
        "created_at",
        "model_name",
        "model_version",
        "probability",
        "label",
    ):
        assert needed in names


def _migrations_copy(pg_cluster, name):
    """A copy of the migrations the postgres account can read (pytest's tmp_path is private)."""
    folder = Path(pg_cluster) / name
    shutil.copytree(Path(pg_cluster) / "migrations", folder)
    return folder


def test_migrations_run_once_and_refuse_edits(pg_cluster, conn):
    again = run_migrations(pg_cluster, "attrition_test")
    assert again.stdout == ""  # everything was applied by the fixture already
    with conn.cursor() as cur:
        cur.execute("SELECT version FROM meta.schema_migrations ORDER BY version")
        assert [v for (v,) in cur.fetchall()] == [
            "0001_training_schema",
            "0002_predictions_schema",
            "0003_prediction_requests",
            "0004_data_loads_and_alias_moves",
            "0005_function_clients",
        ]
    edited = _migrations_copy(pg_cluster, "edited")
    (edited / "0002_predictions_schema.sql").write_text("SELECT 1;\n")
    hand_over(edited)
    with pytest.raises(subprocess.CalledProcessError) as caught:
        run_migrations(pg_cluster, "attrition_test", edited)
    assert "0002_predictions_schema was changed after it was applied" in caught.value.stderr


def test_a_failing_migration_is_not_recorded(pg_cluster, conn):
    folder = _migrations_copy(pg_cluster, "broken")
    (folder / "0003_broken.sql").write_text("CREATE TABLE meta.half (id int);\nSELECT 1/0;\n")
    hand_over(folder)
    with pytest.raises(subprocess.CalledProcessError):
        run_migrations(pg_cluster, "attrition_test", folder)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM meta.schema_migrations WHERE version = '0003_broken'")
        assert cur.fetchone() == (0,)
        cur.execute("SELECT to_regclass('meta.half')")
        assert cur.fetchone() == (None,)
