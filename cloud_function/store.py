"""Predictions in PostgreSQL: one transaction per request, parameterised SQL, a connection pool
created once per function instance."""

import contextlib
import threading

import psycopg2
import psycopg2.extras
import psycopg2.pool

from validation import NAMES


class DatabaseDown(Exception):
    """The database could not be reached or failed (503; nothing was stored)."""


INSERT_REQUEST = """
    INSERT INTO predictions.requests (request_id, user_id, idempotency_key, body_sha256,
                                      model_name, model_version, threshold, row_count)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (user_id, idempotency_key) DO NOTHING
    RETURNING request_id"""
# Column names come from the contract (never from a request); every value is a bound parameter.
INSERT_ROWS = (
    "INSERT INTO predictions.predictions (request_id, row_index, user_id, model_name,"  # noqa: S608
    " model_version, " + ", ".join(NAMES) + ", probability, label) VALUES %s"
)
FIND = """
    SELECT r.request_id, r.body_sha256, r.model_name, r.model_version,
           array_agg(p.label ORDER BY p.row_index), array_agg(p.probability ORDER BY p.row_index)
    FROM predictions.requests r JOIN predictions.predictions p USING (request_id)
    WHERE r.user_id = %s AND r.idempotency_key = %s
    GROUP BY r.request_id"""
HISTORY = (
    "SELECT request_id, row_index, created_at, model_name, model_version, probability, label, "  # noqa: S608
    + ", ".join(NAMES)
    + " FROM predictions.predictions WHERE user_id = %s"
    " ORDER BY created_at DESC, request_id, row_index LIMIT %s"
)


class Store:
    def __init__(self, size: int):
        self.size = size
        self.pool = None
        self.lock = threading.Lock()
        self.slots = threading.BoundedSemaphore(size)  # block instead of PoolError when busy

    @contextlib.contextmanager
    def connection(self):
        with self.slots:
            try:
                with self.lock:
                    if self.pool is None:
                        self.pool = psycopg2.pool.ThreadedConnectionPool(
                            0, self.size, "connect_timeout=5 application_name=attrition-gateway"
                            " options='-c statement_timeout=10000'")  # fmt: skip
                conn = self.pool.getconn()
            except psycopg2.Error as err:
                raise DatabaseDown(f"the database cannot be reached ({type(err).__name__})"
                                   ) from err  # fmt: skip
            broken = False
            try:
                # One transaction: commit at the end, roll back on any error.
                with conn, conn.cursor() as cur:
                    yield cur
            except psycopg2.Error as err:
                broken = conn.closed != 0 or isinstance(err, psycopg2.OperationalError)
                raise DatabaseDown(f"the database failed ({type(err).__name__}); nothing was"
                                   " stored") from err  # fmt: skip
            finally:
                self.pool.putconn(conn, close=broken)

    def find(self, user_id: int, key: str):
        """The stored answer of (user, idempotency key), or None."""
        with self.connection() as cur:
            cur.execute(FIND, (user_id, key))
            row = cur.fetchone()
        if row is None:
            return None
        request_id, sha, name, version, labels, probabilities = row
        return bytes(sha), answer(str(request_id), name, version, zip(labels, probabilities))

    def save(self, request_id, user_id, key, sha, result, rows) -> bool:
        """Store a request and its rows in one transaction; False when a concurrent request
        with the same idempotency key got there first (nothing stored by this one)."""
        with self.connection() as cur:
            head = (request_id, user_id, key, sha, result["name"], result["version"],
                    result["threshold"], len(rows))  # fmt: skip
            cur.execute(INSERT_REQUEST, head)
            if cur.fetchone() is None:
                return False
            values = [
                (request_id, i, user_id, result["name"], result["version"], *row, p, label)
                for i, (row, (label, p)) in enumerate(zip(rows, result["predictions"]))
            ]
            psycopg2.extras.execute_values(cur, INSERT_ROWS, values, page_size=1000)
        return True

    def history(self, user_id: int, limit: int) -> list:
        with self.connection() as cur:
            cur.execute(HISTORY, (user_id, limit))
            rows = cur.fetchall()
        out = []
        for rid, index, created, name, version, probability, label, *features in rows:
            out.append({"request_id": str(rid), "row": index, "created_at": created.isoformat(),
                        "model": {"name": name, "version": version},
                        "attrition": label, "probability": probability,
                        "features": dict(zip(NAMES, features))})  # fmt: skip
        return out


def answer(request_id: str, name: str, version: int, predictions) -> dict:
    return {
        "request_id": request_id,
        "model": {"name": name, "version": version},
        "predictions": [{"attrition": bool(label), "probability": float(p)}
                        for label, p in predictions],
    }  # fmt: skip
