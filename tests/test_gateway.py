"""The Cloud Function under functions-framework, against real serving (following a registered
model), a real PostgreSQL (as a role with the gateway's grants only) and real failures."""

from __future__ import annotations

import json
import os
import signal
import threading

import pytest

from gateway_server import SEED, TOKEN, counts, env_for, gateway, record_move


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
        cur.execute("SELECT row_index, user_id, model_version, age, overtime, probability, label"
                    " FROM predictions.predictions WHERE request_id = %s ORDER BY row_index",
                    (out["request_id"],))  # fmt: skip
        rows = cur.fetchall()
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [(0, 1, 1, 40, 0), (1, 1, 1, 40, 1)]
    assert [(r[5], r[6]) for r in rows] == [
        (p["probability"], p["attrition"]) for p in out["predictions"]
    ]


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


BAD = [
    ({"user_id": "1; DROP TABLE predictions.predictions; --", "data": [SEED]}, "user_id",
     "is not a positive integer"),
    ({"user_id": True, "data": [SEED]}, "user_id", "is not a positive integer"),
    ({"user_id": -3, "data": [SEED]}, "user_id", "is not a positive integer"),
    ({"user_id": 2**70, "data": [SEED]}, "user_id", "is not a positive integer"),
    ({"data": [SEED]}, "user_id", "missing"),
    ({"user_id": 1}, "data", "missing or not a list"),
    ({"user_id": 1, "data": []}, "data", "empty"),
    ({"user_id": 1, "data": [SEED] * 51}, "data", "more than the limit of 50"),
    ({"user_id": 1, "data": [SEED], "debug": 1}, "debug", "unexpected field"),
    ({"user_id": 1, "data": [SEED, {**SEED, "age": "40"}]}, "age", "data[1].age: '40' is not"),
    ({"user_id": 1, "data": [{**SEED, "age": 17}]}, "age", "17 is outside 18..70"),
    ({"user_id": 1, "data": [{**SEED, "overtime": True}]}, "overtime", "True is not an integer"),
    ({"user_id": 1, "data": [{**SEED, "age": None}]}, "age", "None is not an integer"),
    ({"user_id": 1, "data": [{**SEED, "age": 40.5}]}, "age", "40.5 is not an integer"),
    ({"user_id": 1, "data": [{k: v for k, v in SEED.items() if k != "joblevel"}]}, "joblevel",
     "missing"),
    ({"user_id": 1, "data": [{**SEED, "salary": 1}]}, "salary", "not a model feature"),
    ({"user_id": 1, "data": ["x"]}, "data", "not an object"),
    ([SEED], None, "must be a JSON object"),
]  # fmt: skip


@pytest.mark.parametrize(("doc", "field", "words"), BAD)
def test_bad_input_is_named_and_stores_nothing(fn, gateway_db, doc, field, words):
    before = counts(gateway_db)
    status, _, out = fn.post(doc)
    assert status == 400
    assert words in out["error"]
    assert out.get("field") == field
    assert counts(gateway_db) == before


@pytest.mark.parametrize(
    ("raw", "headers", "status", "words"),
    [
        (b"{not json", {}, 400, "not valid JSON"),
        (b"[" * 100_000, {}, 400, "not valid JSON"),
        (b'{"user_id": 1, "data": []}', {"Content-Type": "text/plain"}, 415, "application/json"),
        (b" " * 300_000, {}, 413, "larger than"),
        (
            json.dumps({"user_id": 1, "data": [SEED]}).encode(),
            {"Idempotency-Key": "a b"},
            400,
            "no spaces",
        ),
    ],
)
def test_bad_bodies(fn, gateway_db, raw, headers, status, words):
    before = counts(gateway_db)
    got, _, out = fn.post(None, raw=raw, headers=headers)
    assert got == status
    assert words in out["error"]
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
    threads = [threading.Thread(target=lambda: answers.append(
        fn.post({"user_id": 8, "data": [SEED, SEED]}, headers=key))) for _ in range(6)]  # fmt: skip
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
        status, _, out = fn.post({"user_id": 666, "data": [SEED, SEED]},
                                 headers={"Idempotency-Key": "k666"})  # fmt: skip
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
    status, _, out = fn.post({"user_id": 666, "data": [SEED, SEED]},
                             headers={"Idempotency-Key": "k666"})  # fmt: skip
    assert status == 200
    assert counts(gateway_db) == (before[0] + 1, before[1] + 2)


def test_log_lines_carry_no_features(fn):
    status, _, out = fn.post({"user_id": 31, "data": [{**SEED, "monthlyincome": 13579}]})
    assert status == 200
    lines = [json.loads(line) for line in fn.log_text().splitlines()
             if out["request_id"] in line]  # fmt: skip
    assert lines and lines[0]["status"] == 200 and lines[0]["user_id"] == 31
    assert "13579" not in fn.log_text()


def test_history_shows_the_production_models_moves(fn, gateway_db, app_db):
    """The page's view of the audit trail: the latest moves, newest first; read only."""
    import psycopg2

    from pgcluster import as_login

    record_move(gateway_db, "promote", 4, 5, False, "gateway test move", "real")
    status, out = fn.get("user_id=77&limit=1")
    assert status == 200
    latest = out["production_moves"][0]
    assert {k: latest[k] for k in ("action", "from_version", "to_version", "data_kind")} == {
        "action": "promote", "from_version": 4, "to_version": 5, "data_kind": "real"
    }  # fmt: skip
    assert latest["reason"] == "gateway test move" and latest["model"] == "attrition"
    gw = psycopg2.connect(as_login(app_db, "gw"))
    try:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege), gw:
            gw.cursor().execute("DELETE FROM registry.alias_moves")
    finally:
        gw.close()
