"""Load a validated employee file into training.employees in one transaction.

COPY into a temporary staging table, then one upsert by employee number that rewrites a row only
when a value changed. Any failure rolls everything back: the table stays exactly as it was.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path

from psycopg2 import sql

from attrition import columns, records

log = logging.getLogger(__name__)

TABLE = sql.Identifier("training", "employees")


@dataclass(frozen=True)
class LoadResult:
    inserted: int
    updated: int
    unchanged: int
    rejected: int = 0

    def __str__(self) -> str:
        return (
            f"inserted {self.inserted}, updated {self.updated}, "
            f"unchanged {self.unchanged}, rejected {self.rejected}"
        )


def load_csv(conn, path: Path) -> LoadResult:
    """Validate `path` and upsert it; raises records.RecordsError before any write on bad input."""
    return load(conn, records.read(path))


def load(conn, employee_file: records.EmployeeFile) -> LoadResult:
    """Upsert an already validated file in one transaction."""
    file_cols = [sql.Identifier(columns.sql_name(n)) for n in employee_file.header]
    all_cols = [sql.Identifier(n) for n in columns.SQL_NAMES]
    key = sql.Identifier(columns.sql_name(columns.KEY))
    changed = sql.SQL(", ").join(
        sql.SQL("{c} = EXCLUDED.{c}").format(c=c) for c in all_cols if c != key
    )
    cols = sql.SQL(", ").join(all_cols)
    excluded = sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(c) for c in all_cols)
    current = sql.SQL(", ").join(sql.SQL("t.{}").format(c) for c in all_cols)
    with conn, conn.cursor() as cur:
        cur.execute(
            sql.SQL(
                "CREATE TEMPORARY TABLE employees_staging"
                " (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
            ).format(table=TABLE)
        )
        body = io.BytesIO(employee_file.raw)
        body.seek(employee_file.body_offset)
        cur.copy_expert(
            sql.SQL(
                "COPY employees_staging ({cols}) FROM STDIN"
                " WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')"
            ).format(cols=sql.SQL(", ").join(file_cols)),
            body,
        )
        # xmax = 0 marks a freshly inserted tuple; the WHERE skips rows whose values are equal.
        cur.execute(
            sql.SQL(
                "WITH written AS ("
                " INSERT INTO {table} AS t ({cols}) SELECT {cols} FROM employees_staging"
                " ON CONFLICT ({key}) DO UPDATE SET {changed}, updated_at = now()"
                " WHERE ({current}) IS DISTINCT FROM ({excluded})"
                " RETURNING (xmax = 0) AS inserted)"
                " SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)"
                " FROM written"
            ).format(
                table=TABLE,
                cols=cols,
                key=key,
                changed=changed,
                current=current,
                excluded=excluded,
            )
        )
        inserted, updated = cur.fetchone()
    return LoadResult(inserted, updated, employee_file.rows - inserted - updated)
