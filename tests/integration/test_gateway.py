"""The Cloud Function under functions-framework, against real serving (following a registered
model), a real PostgreSQL (as a role with the gateway's grants only) and real failures."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import signal
import threading
import time
import uuid
from functools import partial

import pytest

from testkit.gateway_server import SEED, TOKEN, counts, env_for, gateway, record_move
from testkit.logs import without_request_ids
from testkit.paths import CLOUD_FUNCTION
from testkit.prometheus_text import increase
from testkit.tcp_proxy import quiet_proxy


def test_seed_request_is_answered_and_stored(fn, gateway_db):
    before = counts(gateway_db)
    status, head, out = fn.post({"user_id": 1, "data": [SEED, {**SEED, "overtime": 1}]})
    assert status == 200, out
    assert out["model"] == {"name": "attrition", "version": 1}
    assert len(out["predictions"]) == 2
    assert head["X-Request-ID"] == out["request_id"]
    # Overtime raises the risk (the model learned the generator's risk factors).
    assert out["predictions"][1]["probability"] > out["predictions"][0]["probability"]
    assert counts(gateway_db) == (before[0] + 1, before[1] + 2)
    with gateway_db.cursor() as cur:
        cur.execute(
            "SELECT row_index, user_id, model_version, age, overtime, probability, label"
            " FROM predictions.predictions WHERE request_id = %s ORDER BY row_index",
            (out["request_id"],),
        )
        rows = cur.fetchall()
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [(0, 1, 1, 40, 0), (1, 1, 1, 40, 1)]
    assert [(r[5], r[6]) for r in rows] == [
        (p["probability"], p["attrition"]) for p in out["predictions"]
    ]


def test_metrics_count_the_stored_rows(fn, gateway_db):
    before = fn.call("/metrics")[2]
    assert fn.post({"user_id": 3, "data": [SEED, SEED, SEED]})[0] == 200
    assert fn.post({"user_id": 3, "data": [{**SEED, "age": 10}]})[0] == 400
    after = fn.call("/metrics")[2]
    grew = partial(increase, before, after)

    assert grew("attrition_function_rows_stored_total") == 3
    assert grew('attrition_function_requests_total{method="POST",status="200"}') == 1
    assert grew('attrition_function_requests_total{method="POST",status="400"}') == 1


def test_history_returns_this_users_latest(fn):
    fn.post({"user_id": 77, "data": [SEED]})
    status, _, second = fn.post({"user_id": 77, "data": [{**SEED, "age": 25}]})
    assert status == 200
    status, out = fn.get("user_id=77&limit=5")
    assert status == 200
    assert [p["features"]["age"] for p in out["predictions"]] == [25, 40]
    assert out["predictions"][0]["request_id"] == second["request_id"]
    assert fn.get("user_id=77&limit=1")[1]["predictions"][0]["features"]["age"] == 25
    assert fn.get("user_id=77&limit=0")[0] == 400
    assert fn.get("user_id=abc")[0] == 400


def test_authentication(fn, gateway_db):
    before = counts(gateway_db)
    assert fn.post({"user_id": 1, "data": [SEED]}, token="")[0] == 401
    assert fn.post({"user_id": 1, "data": [SEED]}, token=TOKEN + "x")[0] == 401
    assert fn.get("user_id=1", token="wrong")[0] == 401
    assert counts(gateway_db) == before


def test_idempotency_key(fn, gateway_db):
    before = counts(gateway_db)
    key = {"Idempotency-Key": "client-retry-42"}
    first = fn.post({"user_id": 5, "data": [SEED]}, headers=key)
    again = fn.post({"user_id": 5, "data": [SEED]}, headers=key)
    assert first[0] == again[0] == 200
    assert first[2] == again[2]
    assert again[1]["Idempotent-Replayed"] == "true"
    assert counts(gateway_db) == (before[0] + 1, before[1] + 1)
    # The same key for other data is refused; another user may use the same key.
    assert fn.post({"user_id": 5, "data": [{**SEED, "age": 50}]}, headers=key)[0] == 409
    assert fn.post({"user_id": 6, "data": [SEED]}, headers=key)[0] == 200
    # Concurrent retries: stored once, every client gets the same answer.
    answers = []
    key = {"Idempotency-Key": "concurrent-1"}
    threads = [
        threading.Thread(
            target=lambda: answers.append(
                fn.post({"user_id": 8, "data": [SEED, SEED]}, headers=key)
            )
        )
        for _ in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {a[0] for a in answers} == {200}
    assert len({a[2]["request_id"] for a in answers}) == 1
    assert counts(gateway_db) == (before[0] + 3, before[1] + 4)


def test_serving_down_slow_and_database_down(gateway_db, pg_cluster, serving_url, tmp_path):
    before = counts(gateway_db)
    body = {"user_id": 9, "data": [SEED]}
    with gateway(tmp_path / "a", env_for(pg_cluster, "http://127.0.0.1:9")) as gw:
        status, _, out = gw.post(body)
        assert (status, "cannot be reached" in out["error"]) == (503, True)
    with gateway(tmp_path / "b", env_for("/nonexistent", serving_url.url)) as gw:
        status, _, out = gw.post(body)
        assert (status, "database cannot be reached" in out["error"]) == (503, True)
    with gateway(tmp_path / "c", env_for(pg_cluster, serving_url.url)) as gw:
        pids = [serving_url.proc.pid, *serving_url.workers()]
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)  # a hung serving host: connects, never answers
        try:
            status, _, out = gw.post(body)
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
        assert (status, "did not answer in time" in out["error"]) == (504, True)
        assert gw.post(body)[0] == 200  # and it recovers
    assert counts(gateway_db) == (before[0] + 1, before[1] + 1)


def test_a_database_restart_fails_no_request(fn, gateway_db):
    """The server ends the function's idle connections (as a restart or a restore does): the
    next requests open new ones instead of answering 503."""
    assert fn.get("user_id=1")[0] == 200
    with gateway_db.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'gw'")
        assert cur.rowcount >= 1
        # pg_terminate_backend only signals: wait until the backends have ended (and closed
        # their sockets), as they have once a restart is over. Sent before, a request raced the
        # ending backend (a 503 once in CI).
        for _ in range(100):
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = 'gw'")
            if cur.fetchone()[0] == 0:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the terminated backends did not end within 5 s")
    before = counts(gateway_db)
    assert fn.get("user_id=1")[0] == 200
    assert fn.post({"user_id": 1, "data": [SEED]})[0] == 200
    assert counts(gateway_db) == (before[0] + 1, before[1] + 1)


def test_a_kept_connection_the_database_ended_unnoticed_is_replaced_for_reads_only(
    gateway_db, pg_cluster, monkeypatch
):
    """The restart race: a kept connection whose server went away, its goodbye not arrived yet,
    fails at its next statement. A read runs once more on a new connection; a write is not
    retried (it may have been committed) and stores nothing."""
    monkeypatch.syspath_prepend(str(CLOUD_FUNCTION))
    store_module = importlib.import_module("store")
    key = hashlib.sha256(TOKEN.encode()).digest()
    with quiet_proxy(pg_cluster) as proxy:
        for name, setting in {
            "PGHOST": "127.0.0.1",
            "PGPORT": str(proxy.port),
            "PGUSER": "gw",
            "PGDATABASE": "attrition_test",
        }.items():
            monkeypatch.setenv(name, setting)
        store = store_module.Store(4)
        found, history = store.client(key_sha256=key), store.history(1, 5)
        assert found[0] == "web-page"
        proxy.end_quietly()
        assert (store.client(key_sha256=key), store.history(1, 5)) == (found, history)
        assert proxy.accepted == 2  # one new connection, after the first read failed

        before = counts(gateway_db)
        proxy.end_quietly()
        row = [SEED[name] for name in store_module.NAMES]
        result = {"name": "attrition", "version": 1, "threshold": 0.5, "predictions": [(0, 0.1)]}
        with pytest.raises(store_module.DatabaseDown, match="nothing was stored"):
            store.save(str(uuid.uuid4()), 1, None, b"x" * 32, result, [row])
        assert counts(gateway_db) == before
        assert proxy.accepted == 2


def test_failure_mid_transaction_stores_nothing(fn, gateway_db):
    """The request row is written, then the rows' insert fails: both are rolled back."""
    with gateway_db.cursor() as cur:
        cur.execute("""
            CREATE OR REPLACE FUNCTION predictions.fail_for_666() RETURNS trigger AS $$
            BEGIN
              IF NEW.user_id = 666 THEN RAISE EXCEPTION 'disk on fire'; END IF;
              RETURN NEW;
            END $$ LANGUAGE plpgsql;
            DROP TRIGGER IF EXISTS fail_for_666 ON predictions.predictions;
            CREATE TRIGGER fail_for_666 BEFORE INSERT ON predictions.predictions
              FOR EACH ROW EXECUTE FUNCTION predictions.fail_for_666();
        """)
    try:
        before = counts(gateway_db)
        status, _, out = fn.post(
            {"user_id": 666, "data": [SEED, SEED]}, headers={"Idempotency-Key": "k666"}
        )
        assert status == 503
        assert "nothing was stored" in out["error"]
        assert counts(gateway_db) == before
        with gateway_db.cursor() as cur:
            cur.execute("SELECT count(*) FROM predictions.requests WHERE user_id = 666")
            assert cur.fetchone() == (0,)
    finally:
        with gateway_db.cursor() as cur:
            cur.execute("DROP TRIGGER fail_for_666 ON predictions.predictions")
    # The client retries with the same key: now it is stored, once.
    status, _, out = fn.post(
        {"user_id": 666, "data": [SEED, SEED]}, headers={"Idempotency-Key": "k666"}
    )
    assert status == 200
    assert counts(gateway_db) == (before[0] + 1, before[1] + 2)


def test_log_lines_carry_no_features(fn):
    status, _, out = fn.post({"user_id": 31, "data": [{**SEED, "monthlyincome": 13579}]})
    assert status == 200
    lines = [json.loads(line) for line in fn.log_text().splitlines() if out["request_id"] in line]
    assert lines and lines[0]["status"] == 200 and lines[0]["user_id"] == 31
    assert "13579" not in without_request_ids(fn.log_text())


def test_history_shows_the_production_models_moves(fn, gateway_db, app_db):
    """The page's view of the audit trail: the latest moves, newest first; read only."""
    import psycopg2

    from testkit.pgcluster import as_login

    record_move(gateway_db, "promote", 4, 5, False, "gateway test move", "real")
    status, out = fn.get("user_id=77&limit=1")
    assert status == 200
    latest = out["production_moves"][0]
    assert {k: latest[k] for k in ("action", "from_version", "to_version", "data_kind")} == {
        "action": "promote",
        "from_version": 4,
        "to_version": 5,
        "data_kind": "real",
    }
    assert latest["reason"] == "gateway test move" and latest["model"] == "attrition"
    gw = psycopg2.connect(as_login(app_db, "gw"))
    try:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege), gw:
            gw.cursor().execute("DELETE FROM registry.alias_moves")
    finally:
        gw.close()
