"""Loading into a real PostgreSQL: both modes' counts, the recorded loads, the data-safety rules,
and bad input leaves the table as it was."""

from __future__ import annotations

import pandas as pd
import pytest

from attrition import columns, generator, loader, records
from testkit.csv_files import edit_line, write_rows
from testkit.pgcluster import as_login, grants_sql


def _snapshot(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT * FROM training.employees ORDER BY employee_number")
        return cur.fetchall()


def _loads(conn):
    with conn, conn.cursor() as cur:
        cur.execute(
            "SELECT source, kind, mode, rows, inserted, updated, deleted, unchanged, db_account,"
            " operator FROM training.loads ORDER BY id"
        )
        return cur.fetchall()


def test_ibm_file_loads_then_reload_changes_nothing(conn, ibm_csv):
    first = loader.load_csv(conn, ibm_csv, operator="alice")
    assert (first.inserted, first.updated, first.deleted, first.unchanged) == (1470, 0, 0, 0)
    before = _snapshot(conn)
    again = loader.load_csv(conn, ibm_csv, operator="alice")
    assert (again.inserted, again.updated, again.deleted, again.unchanged) == (0, 0, 0, 1470)
    assert _snapshot(conn) == before  # not even updated_at or the rows' load moved
    name = ibm_csv.name
    assert _loads(conn) == [
        (name, "real", "snapshot", 1470, 1470, 0, 0, 0, "postgres", "alice"),
        (name, "real", "snapshot", 1470, 0, 0, 0, 1470, "postgres", "alice"),
    ]
    skipped = loader.load_csv(conn, ibm_csv, unless_loaded=True)
    assert skipped.load_id is None and "already loaded" in str(skipped)
    assert len(_loads(conn)) == 2  # a skipped load records nothing
    status = loader.status(conn)
    assert (status.rows, status.kind, status.identity) == (1470, "real", f"real:{name}")
    assert [load.id for load in status.loads] == [first.load_id]
    with conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FILTER (WHERE attrition = 'Yes'), avg(monthly_income)::int,"
            " count(*) FILTER (WHERE over_time = 'Yes') FROM training.employees"
        )
        assert cur.fetchone() == (237, 6503, 416)


@pytest.mark.parametrize("mode", ["upsert", "snapshot"])
def test_changed_new_and_absent_rows(conn, tmp_path, mode):
    """Employees 1-10 loaded; then a file without employee 3, with employee 2 changed and
    11, 12 new: an upsert keeps employee 3, a snapshot deletes it, in the same transaction."""
    original = generator.generate(10, 1)
    generator.write_csv(original, tmp_path / "f.csv")
    loader.load_csv(conn, tmp_path / "f.csv")
    extra = generator.generate(2, 2).assign(EmployeeNumber=[11, 12])
    grown = pd.concat([original.drop(index=2), extra], ignore_index=True)
    grown.loc[1, "MonthlyIncome"] = 12345  # employee 2
    generator.write_csv(grown, tmp_path / "g.csv")
    result = loader.load_csv(conn, tmp_path / "g.csv", mode=mode)
    deleted = 1 if mode == "snapshot" else 0
    assert (result.inserted, result.updated, result.deleted, result.unchanged) == (2, 1, deleted, 8)
    with conn.cursor() as cur:
        cur.execute("SELECT employee_number FROM training.employees ORDER BY 1")
        numbers = [n for (n,) in cur.fetchall()]
    assert (3 in numbers) == (mode == "upsert")
    assert len(numbers) == 12 - deleted
    # Rows the second load wrote name it; the unchanged ones still name the first.
    with conn.cursor() as cur:
        cur.execute(
            "SELECT employee_number FROM training.employees WHERE load_id = %s ORDER BY 1",
            (result.load_id,),
        )
        assert [n for (n,) in cur.fetchall()] == [2, 11, 12]
    with conn.cursor() as cur:
        cur.execute(
            "SELECT monthly_income, updated_at > loaded_at FROM training.employees"
            " WHERE employee_number = 2"
        )
        assert cur.fetchone() == (12345, True)


def test_lowercase_variant_loads(conn, tmp_path):
    result = loader.load_csv(conn, write_rows(tmp_path / "f.csv", lowercase=True))
    assert result.inserted == 20


def test_synthetic_never_touches_real_data(conn, tmp_path, ibm_csv):
    synthetic = write_rows(tmp_path / "synthetic.csv", rows=50, seed=3)
    first = loader.load_csv(conn, synthetic, kind="synthetic")
    assert first.inserted == 50
    # A real file replaces a synthetic table entirely (overlapping employee numbers included).
    real = loader.load_csv(conn, ibm_csv)
    assert (real.deleted, real.inserted + real.updated) == (50 - real.updated, 1470)
    before = _snapshot(conn)
    for mode in ("snapshot", "upsert"):
        with pytest.raises(loader.LoadRefused, match="holds real data"):
            loader.load_csv(conn, synthetic, kind="synthetic", mode=mode)
    assert _snapshot(conn) == before
    assert loader.status(conn).kind == "real"


def test_upsert_never_mixes_kinds(conn, tmp_path, ibm_csv):
    loader.load_csv(conn, write_rows(tmp_path / "s.csv", rows=30, seed=4), kind="synthetic")
    before = _snapshot(conn)
    with pytest.raises(loader.LoadRefused, match="snapshot mode to replace the table"):
        loader.load_csv(conn, ibm_csv, mode="upsert")
    assert _snapshot(conn) == before
    assert [row[1] for row in _loads(conn)] == ["synthetic"]


def test_rows_without_a_recorded_load_count_as_real(conn, tmp_path):
    """Rows from before loads were recorded (load_id NULL) are protected like real ones."""
    loader.load_csv(conn, write_rows(tmp_path / "old.csv", rows=10))
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE training.employees SET load_id = NULL")
    status = loader.status(conn)
    assert status.kind == "unrecorded"
    assert status.describe() == "10 rows, unrecorded: 10 rows from before loads were recorded"
    with pytest.raises(loader.LoadRefused, match="holds real data"):
        loader.load_csv(conn, write_rows(tmp_path / "s.csv", seed=9), kind="synthetic")


def test_loader_account_has_only_what_the_modes_need(app_db, conn, tmp_path):
    """As a role with the postgres role's loader grants: both modes work; nothing else."""
    import psycopg2

    with conn, conn.cursor() as cur:
        cur.execute(grants_sql("postgres_loader_user", "loader_test", "attrition_test"))
    loader_conn = psycopg2.connect(as_login(app_db, "loader_test"))
    try:
        loader.load_csv(loader_conn, write_rows(tmp_path / "a.csv", rows=30), mode="snapshot")
        loader.load_csv(loader_conn, write_rows(tmp_path / "b.csv", rows=10), mode="upsert")
        assert loader.status(loader_conn).rows == 30
        for statement in (
            "UPDATE training.loads SET rows = 1",
            "DELETE FROM training.loads",
            "TRUNCATE training.employees",
        ):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege), loader_conn:
                loader_conn.cursor().execute(statement)
    finally:
        loader_conn.close()


@pytest.mark.parametrize(
    "case", ["bad value", "duplicate id", "missing column", "no rows", "encoding"]
)
def test_bad_file_leaves_table_exactly_as_it_was(conn, tmp_path, ibm_csv, case):
    loader.load_csv(conn, ibm_csv)
    before = _snapshot(conn)
    path = write_rows(tmp_path / "f.csv", rows=30, seed=7)
    if case == "bad value":
        edit_line(path, 30, "JobLevel", "6")
    elif case == "duplicate id":
        edit_line(path, 30, "EmployeeNumber", "1")
    elif case == "missing column":
        text = path.read_bytes().decode("utf-8-sig").replace("Age,", "", 1)
        path.write_text(text, encoding="utf-8-sig")
    elif case == "no rows":
        path.write_text(",".join(columns.NAMES) + "\r\n", encoding="utf-8-sig")
    else:
        path.write_bytes(path.read_bytes() + "Zoë".encode("utf-16"))
    with pytest.raises(records.RecordsError):
        loader.load_csv(conn, path)
    assert _snapshot(conn) == before
    assert len(_loads(conn)) == 1


def test_database_failure_mid_load_writes_nothing(conn, tmp_path):
    """A failure inside the upsert (here a trigger on one row) rolls the whole file back."""
    with conn, conn.cursor() as cur:
        cur.execute(
            "CREATE FUNCTION pg_temp.refuse() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN IF NEW.employee_number = 15 THEN RAISE EXCEPTION 'disk full'; END IF;"
            " RETURN NEW; END $$;"
            "CREATE TRIGGER refuse BEFORE INSERT ON training.employees"
            " FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse()"
        )
    try:
        with pytest.raises(Exception, match="disk full"):
            loader.load_csv(conn, write_rows(tmp_path / "f.csv", rows=20))
        assert _snapshot(conn) == []
        assert _loads(conn) == []
    finally:
        with conn, conn.cursor() as cur:
            cur.execute("DROP TRIGGER refuse ON training.employees")
