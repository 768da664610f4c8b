"""Loading into a real PostgreSQL: upsert counts, and bad input leaves the table as it was."""

from __future__ import annotations

import pandas as pd
import pytest

from attrition import columns, generator, loader, records

from helpers import edit_line, write_rows


def _snapshot(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT * FROM training.employees ORDER BY employee_number")
        return cur.fetchall()


def test_ibm_file_loads_then_reload_changes_nothing(conn, ibm_csv):
    first = loader.load_csv(conn, ibm_csv)
    assert (first.inserted, first.updated, first.unchanged) == (1470, 0, 0)
    before = _snapshot(conn)
    again = loader.load_csv(conn, ibm_csv)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1470)
    assert _snapshot(conn) == before  # not even updated_at moved
    with conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FILTER (WHERE attrition = 'Yes'), avg(monthly_income)::int,"
            " count(*) FILTER (WHERE over_time = 'Yes') FROM training.employees"
        )
        assert cur.fetchone() == (237, 6503, 416)


def test_changed_and_new_rows_are_upserted(conn, tmp_path):
    original = generator.generate(10, 1)
    generator.write_csv(original, tmp_path / "f.csv")
    loader.load_csv(conn, tmp_path / "f.csv")
    extra = generator.generate(2, 2).assign(EmployeeNumber=[11, 12])
    grown = pd.concat([original, extra], ignore_index=True)
    grown.loc[1, "MonthlyIncome"] = 12345  # employee 2
    generator.write_csv(grown, tmp_path / "g.csv")
    result = loader.load_csv(conn, tmp_path / "g.csv")
    assert (result.inserted, result.updated, result.unchanged) == (2, 1, 9)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT monthly_income, updated_at > loaded_at FROM training.employees"
            " WHERE employee_number = 2"
        )
        assert cur.fetchone() == (12345, True)


def test_lowercase_variant_loads(conn, tmp_path):
    result = loader.load_csv(conn, write_rows(tmp_path / "f.csv", lowercase=True))
    assert result.inserted == 20


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
    finally:
        with conn, conn.cursor() as cur:
            cur.execute("DROP TRIGGER refuse ON training.employees")
