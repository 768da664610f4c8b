"""Extract the training rows from PostgreSQL, as the read-only trainer role, into memory.

Nothing touches the disk: COPY streams CSV into a buffer that is freed when this returns, so
there is no temporary file to clean up after a success, a failure or a kill.
"""

from __future__ import annotations

import io

import pandas as pd
import psycopg2
from psycopg2 import sql

from attrition import columns, lineage
from attrition.lineage import DataSet


def extract(dsn: str, connect_timeout: int = 10) -> pd.DataFrame:
    """All employee records, IBM column names, in employee-number order."""
    return extract_with_lineage(dsn, connect_timeout)[0]


def extract_with_lineage(dsn: str, connect_timeout: int = 10) -> tuple[pd.DataFrame, DataSet]:
    """The records and the loads they came from, read in one snapshot of the database."""
    names = sql.SQL(", ").join(sql.Identifier(n) for n in columns.SQL_NAMES)
    query = sql.SQL(
        "COPY (SELECT {names} FROM training.employees ORDER BY employee_number) TO STDOUT"
        " WITH (FORMAT csv, HEADER true)"
    ).format(names=names)
    buffer = io.BytesIO()
    conn = psycopg2.connect(dsn, connect_timeout=connect_timeout)
    try:
        conn.set_session(readonly=True, isolation_level="REPEATABLE READ")
        with conn, conn.cursor() as cur:
            cur.copy_expert(query, buffer)
            data = lineage.read(cur)
    finally:
        conn.close()
    buffer.seek(0)
    # Keep nulls as nulls (a row with a null must be reported, not silently coerced).
    frame = pd.read_csv(buffer)
    frame.columns = list(columns.NAMES)
    return frame, data
