"""Load a validated employee file into training.employees in one transaction, and record it.

Two modes: `snapshot` (the default) leaves the table holding exactly the file's rows (rows absent
from the file are deleted); `upsert` merges the file into the table. Either way the rows are
COPied into a temporary staging table, then one upsert by employee number rewrites a row only
when a value changed. Each load appends its row to training.loads (source, kind, sha256, counts)
and every row it writes names it, in the same transaction. Any failure rolls everything back:
the table stays exactly as it was.

Synthetic data never touches real data: a synthetic file is refused when the table holds real
rows, and an upsert never mixes kinds (a snapshot replaces the table instead).
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path

from psycopg2 import sql

from attrition import columns, lineage, records

log = logging.getLogger(__name__)

TABLE = sql.Identifier("training", "employees")
MODES = ("snapshot", "upsert")
KINDS = ("real", "synthetic")


class LoadRefused(Exception):
    """The load would break a data-safety rule; nothing was written."""


@dataclass(frozen=True)
class LoadResult:
    mode: str
    kind: str
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    rejected: int = 0
    load_id: int | None = None  # None: nothing was loaded (see `skipped`)
    skipped: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated or self.deleted)

    def __str__(self) -> str:
        if self.skipped:
            return f"not loaded: {self.skipped}"
        return (
            f"{self.mode} load {self.load_id} ({self.kind}): inserted {self.inserted}, "
            f"updated {self.updated}, deleted {self.deleted}, unchanged {self.unchanged}, "
            f"rejected {self.rejected}"
        )


def load_csv(conn, path: Path, **options) -> LoadResult:
    """Validate `path` and load it; raises records.RecordsError before any write on bad input."""
    return load(conn, records.read(path), source=path.name, **options)


def load(
    conn,
    employee_file: records.EmployeeFile,
    *,
    source: str,
    kind: str = "real",
    mode: str = "snapshot",
    operator: str = "unknown",
    unless_loaded: bool = False,
) -> LoadResult:
    """Load an already validated file in one transaction (see the module's rules).

    `unless_loaded`: do nothing when the latest recorded load is this very file (same sha256,
    kind and mode), so that re-running a deployment neither writes nor records anything."""
    if mode not in MODES or kind not in KINDS:
        raise ValueError(f"mode must be one of {MODES} and kind one of {KINDS}")
    if not 0 < len(source) <= 200:
        raise ValueError("the source name must have 1 to 200 characters")
    sha256 = hashlib.sha256(employee_file.raw).hexdigest()
    with conn, conn.cursor() as cur:
        # One load at a time, and the table cannot change between the checks and the writes.
        cur.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(TABLE))
        cur.execute("SELECT id, sha256, kind, mode FROM training.loads ORDER BY id DESC LIMIT 1")
        latest = cur.fetchone()
        if unless_loaded and latest and latest[1:] == (sha256, kind, mode):
            return LoadResult(mode, kind, skipped=f"this file is already loaded (load {latest[0]})")
        current = lineage.read(cur)
        _check_rules(current, kind, mode)
        cur.execute("SELECT nextval(pg_get_serial_sequence('training.loads', 'id'))")
        (load_id,) = cur.fetchone()
        inserted, updated = _upsert(cur, employee_file, load_id)
        deleted = _delete_absent(cur) if mode == "snapshot" else 0
        unchanged = employee_file.rows - inserted - updated
        cur.execute(
            "INSERT INTO training.loads (id, source, kind, sha256, mode, rows, inserted, updated,"
            " deleted, unchanged, operator) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                load_id,
                source,
                kind,
                sha256,
                mode,
                employee_file.rows,
                inserted,
                updated,
                deleted,
                unchanged,
                operator,
            ),
        )
    return LoadResult(mode, kind, inserted, updated, deleted, unchanged, 0, load_id)


def _check_rules(current: lineage.DataSet, kind: str, mode: str) -> None:
    if kind == "synthetic" and current.holds_real_data:
        raise LoadRefused(
            f"training.employees holds real data ({current.describe()}); synthetic data is"
            " never written over it"
        )
    if mode == "upsert" and current.rows and current.kinds != {kind}:
        raise LoadRefused(
            f"an upsert of {kind} rows would mix them with the table's ({current.describe()});"
            " load the file in snapshot mode to replace the table"
        )


def _upsert(cur, employee_file: records.EmployeeFile, load_id: int) -> tuple[int, int]:
    """(inserted, updated) after merging the file into the table by employee number."""
    file_cols = [sql.Identifier(columns.sql_name(n)) for n in employee_file.header]
    all_cols = [sql.Identifier(n) for n in columns.SQL_NAMES]
    key = sql.Identifier(columns.sql_name(columns.KEY))
    changed = sql.SQL(", ").join(
        sql.SQL("{c} = EXCLUDED.{c}").format(c=c) for c in all_cols if c != key
    )
    cols = sql.SQL(", ").join(all_cols)
    excluded = sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(c) for c in all_cols)
    current = sql.SQL(", ").join(sql.SQL("t.{}").format(c) for c in all_cols)
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
            " INSERT INTO {table} AS t ({cols}, load_id) SELECT {cols}, %s FROM employees_staging"
            " ON CONFLICT ({key}) DO UPDATE SET {changed}, load_id = EXCLUDED.load_id,"
            " updated_at = now()"
            " WHERE ({current}) IS DISTINCT FROM ({excluded})"
            " RETURNING (xmax = 0) AS inserted)"
            " SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)"
            " FROM written"
        ).format(
            table=TABLE, cols=cols, key=key, changed=changed, current=current, excluded=excluded
        ),
        (load_id,),
    )
    return cur.fetchone()


def _delete_absent(cur) -> int:
    """Delete the rows whose employee number is not in the staged file; how many."""
    key = sql.Identifier(columns.sql_name(columns.KEY))
    cur.execute(
        sql.SQL(
            "DELETE FROM {table} AS t WHERE NOT EXISTS"
            " (SELECT 1 FROM employees_staging s WHERE s.{key} = t.{key})"
        ).format(table=TABLE, key=key)
    )
    return cur.rowcount


def status(conn) -> lineage.DataSet:
    """The table's current data set (read-only)."""
    with conn, conn.cursor() as cur:
        return lineage.read(cur)
