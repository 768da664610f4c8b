"""Predictions in PostgreSQL: one transaction per request, parameterised SQL, connections kept
per function instance."""

from __future__ import annotations

import contextlib
import functools
import queue
import select
import threading

import psycopg2
import psycopg2.extras

from validation import NAMES

# libpq's PG* variables say where; these bound a hung server: connecting (5 s), a statement
# (10 s, on the server), and a server that stops answering mid-request (TCP keep-alive probes
# after 5 s idle, 3 of them 2 s apart; unacknowledged data for 10 s).
DSN = (
    "connect_timeout=5 application_name=attrition-gateway options='-c statement_timeout=10000'"
    " keepalives=1 keepalives_idle=5 keepalives_interval=2 keepalives_count=3"
    " tcp_user_timeout=10000"
)


class DatabaseDown(Exception):
    """The database could not be reached or failed (503; nothing was stored)."""

    def __init__(self, message: str, kept_connection_lost: bool = False):
        super().__init__(message)
        # A connection kept from an earlier request was found dead when used (see retried).
        self.kept_connection_lost = kept_connection_lost


def retried(read):
    """A read that fails on a kept connection the server had ended (a PostgreSQL restart whose
    goodbye had not arrived when idle_connection() looked: the race is a few milliseconds
    wide) runs once more, on a new connection: every kept one is dropped, they all belong to
    the server that went away. Only reads: a write that failed may have been committed."""

    @functools.wraps(read)
    def once_more(store, *args, **kwargs):
        try:
            return read(store, *args, **kwargs)
        except DatabaseDown as err:
            if not err.kept_connection_lost:
                raise
            store.drop_idle()
            return read(store, *args, **kwargs)

    return once_more


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
# A client by its key's sha256 or its Google identity; its use is recorded at most once a
# minute (a write per request would cost more than the request). Revoked clients are not found.
CLIENT = """
    WITH found AS (
      SELECT id, name, scopes, user_id FROM access.clients
      WHERE {condition} AND revoked_at IS NULL),
    used AS (
      INSERT INTO access.client_use AS u (client_id, last_used_at) SELECT id, now() FROM found
      ON CONFLICT (client_id) DO UPDATE SET last_used_at = now()
      WHERE u.last_used_at < now() - interval '1 minute')
    SELECT name, scopes, user_id FROM found"""
CLIENT_BY_KEY = CLIENT.format(condition="key_sha256 = %s")
CLIENT_BY_IDENTITY = CLIENT.format(condition="google_identity AND name = %s")
# The audit trail of the production alias (written by training and the operator commands).
MOVES = (
    "SELECT moved_at, model_name, action, from_version, to_version, pinned, reason, data_kind"
    " FROM registry.alias_moves WHERE alias = 'production' ORDER BY id DESC LIMIT %s"
)


class Store:
    """Connections are opened on demand, at most `size` at a time, and kept open between
    requests (psycopg2's own pool closes every connection above its minimum on return, which
    costs a new backend per request)."""

    def __init__(self, size: int, wait: float = 5.0):
        self.idle = queue.LifoQueue()
        self.slots = threading.BoundedSemaphore(size)
        self.size, self.wait = size, wait

    @contextlib.contextmanager
    def connection(self):
        # Wait for a free connection, but not forever: with every one of them stuck on a
        # database that stopped answering, a request gets a 503 instead of a hung thread.
        if not self.slots.acquire(timeout=self.wait):
            raise DatabaseDown(
                f"all {self.size} database connections are busy after {self.wait:g} s; nothing"
                " was stored"
            )
        try:
            kept = self.idle_connection()
            conn = kept or self.new_connection()
            broken = False
            try:
                # One transaction: commit at the end, roll back on any error.
                with conn, conn.cursor() as cur:
                    yield cur
            except psycopg2.Error as err:
                broken = True  # a server-side error or a lost connection: start afresh
                raise DatabaseDown(
                    f"the database failed ({type(err).__name__}); nothing was stored",
                    kept_connection_lost=kept is not None and conn.closed != 0,
                ) from err
            finally:
                if broken or conn.closed:
                    conn.close()
                else:
                    self.idle.put(conn)
        finally:
            self.slots.release()

    def idle_connection(self):
        """A kept connection the server has not ended, or None. A restarted PostgreSQL ends
        every connection while it is idle here. An idle connection has nothing to read (we
        LISTEN to nothing): if its socket is readable, the server sent its goodbye or closed
        it, so it is dropped before a request uses it (instead of failing that request with a
        503), and found without a round trip."""
        while True:
            try:
                conn = self.idle.get_nowait()
            except queue.Empty:
                return None
            readable, _, _ = select.select([conn], [], [], 0)
            if not readable and not conn.closed:
                return conn
            conn.close()

    def drop_idle(self) -> None:
        while (conn := self.idle_connection()) is not None:
            conn.close()

    @staticmethod
    def new_connection():
        try:
            return psycopg2.connect(DSN)
        except psycopg2.Error as err:
            raise DatabaseDown(f"the database cannot be reached ({type(err).__name__})") from err

    @retried
    def client(self, key_sha256: bytes | None = None, identity: str | None = None):
        """(name, scopes, user_id) of the client with this key or Google identity, or None."""
        with self.connection() as cur:
            if identity is None:
                cur.execute(CLIENT_BY_KEY, (key_sha256,))
            else:
                cur.execute(CLIENT_BY_IDENTITY, (identity,))
            return cur.fetchone()

    @retried
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
            head = (
                request_id,
                user_id,
                key,
                sha,
                result["name"],
                result["version"],
                result["threshold"],
                len(rows),
            )
            cur.execute(INSERT_REQUEST, head)
            if cur.fetchone() is None:
                return False
            values = [
                (request_id, i, user_id, result["name"], result["version"], *row, p, label)
                for i, (row, (label, p)) in enumerate(zip(rows, result["predictions"]))
            ]
            psycopg2.extras.execute_values(cur, INSERT_ROWS, values, page_size=1000)
        return True

    @retried
    def history(self, user_id: int, limit: int) -> list:
        with self.connection() as cur:
            cur.execute(HISTORY, (user_id, limit))
            rows = cur.fetchall()
        out = []
        for rid, index, created, name, version, probability, label, *features in rows:
            out.append(
                {
                    "request_id": str(rid),
                    "row": index,
                    "created_at": created.isoformat(),
                    "model": {"name": name, "version": version},
                    "attrition": label,
                    "probability": probability,
                    "features": dict(zip(NAMES, features)),
                }
            )
        return out

    @retried
    def production_moves(self, limit: int) -> list:
        with self.connection() as cur:
            cur.execute(MOVES, (limit,))
            rows = cur.fetchall()
        keys = (
            "moved_at",
            "model",
            "action",
            "from_version",
            "to_version",
            "pinned",
            "reason",
            "data_kind",
        )
        return [{**dict(zip(keys, row)), "moved_at": row[0].isoformat()} for row in rows]


def answer(request_id: str, name: str, version: int, predictions) -> dict:
    return {
        "request_id": request_id,
        "model": {"name": name, "version": version},
        "predictions": [
            {"attrition": bool(label), "probability": float(p)} for label, p in predictions
        ],
    }
