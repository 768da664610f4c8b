"""The function's clients for real: `attrition keys` as the clients' manager role, the function
under functions-framework looking them up in PostgreSQL as the gateway role, and Google
identities verified against a stand-in signer (GATEWAY_AUTH=iam)."""

from __future__ import annotations

import json

import psycopg2
import pytest

from testkit.cli import run_cli
from testkit.gateway_server import CLIENTS, SEED, client_list, counts, env_for, gateway
from testkit.google_keys import Signer, published
from testkit.pgcluster import as_login

REQUEST = {"user_id": 9, "data": [SEED]}


def keys(keys_dsn, *args, stdin=""):
    return run_cli("keys", *args, dsn=keys_dsn, stdin=stdin)


def test_a_personal_key_from_create_to_revoke(fn, gateway_db, keys_dsn):
    made = keys(keys_dsn, "create", "bob", "--scopes", "predict,history:own", "--user-id", "9")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("atk_") and len(key) == 47
    assert fn.post(REQUEST, token=key)[0] == 200
    assert fn.get("user_id=9", token=key)[0] == 200
    before = counts(gateway_db)
    status, _, out = fn.post({**REQUEST, "user_id": 10}, token=key)
    assert (status, out) == (403, {"error": "client 'bob' may predict only as user 9"})
    assert fn.get("user_id=10", token=key)[0] == 403
    assert counts(gateway_db) == before  # a refusal stores nothing

    listed = {c["name"]: c for c in json.loads(keys(keys_dsn, "list", "--json").stdout)}
    assert listed["bob"]["scopes"] == "predict,history:own"
    assert listed["bob"]["last_used_at"] is not None
    assert listed["bob"]["revoked_at"] is None
    plain = keys(keys_dsn, "list").stdout
    assert "name=bob  kind=key  scopes=predict,history:own  user_id=9" in plain
    assert key not in plain and key[4:20] not in plain

    rotated = keys(keys_dsn, "rotate", "bob")
    assert rotated.returncode == 0, rotated.stderr
    new_key = rotated.stdout.strip()
    assert fn.post(REQUEST, token=key)[0] == 401
    assert fn.post(REQUEST, token=new_key)[0] == 200

    assert keys(keys_dsn, "revoke", "bob").stdout.strip() == "bob: revoked"
    assert fn.post(REQUEST, token=new_key)[0] == 401
    assert keys(keys_dsn, "rotate", "bob").returncode == 2  # a revoked client stays revoked
    listed = {c["name"]: c for c in json.loads(keys(keys_dsn, "list", "--json").stdout)}
    assert listed["bob"]["revoked_at"] is not None and listed["bob"]["rotated_at"] is not None


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["create", "web-page", "--scopes", "predict", "--user-id", "1"],
            "a client named 'web-page' exists",
        ),
        (["create", "x y", "--scopes", "predict", "--user-id", "1"], "name 'x y': 1 to 200"),
        (["create", "carol", "--scopes", "predict,admin", "--user-id", "1"], "scopes ['admin']"),
        (["create", "carol", "--scopes", "", "--user-id", "1"], "scopes (none)"),
        (["create", "carol", "--scopes", "predict"], "predict act as a user: give --user-id"),
        (["create", "carol", "--scopes", "predict", "--user-id", "0"], "user id 0"),
        (["rotate", "nobody"], "no active key client named 'nobody'"),
        (["revoke", "nobody"], "no active client named 'nobody'"),
    ],
)
def test_a_bad_key_request_is_named_and_changes_nothing(gateway_db, keys_dsn, args, words):
    before = keys(keys_dsn, "list", "--json").stdout
    done = keys(keys_dsn, *args)
    assert done.returncode == 2, done.stderr
    assert words in done.stderr and "nothing was changed" in done.stderr
    assert keys(keys_dsn, "list", "--json").stdout == before


def test_the_playbooks_list_is_applied_once(gateway_db, keys_dsn):
    entries = client_list()
    again = keys(keys_dsn, "sync", stdin=json.dumps(entries))
    assert (again.returncode, json.loads(again.stdout)) == (0, {"changed": []})
    entries[2] = {**entries[2], "scopes": ["history:all", "predict"], "user_id": 3}
    changed = keys(keys_dsn, "sync", stdin=json.dumps(entries))
    assert json.loads(changed.stdout) == {"changed": ["auditor"]}
    entries[2] = {**entries[2], "scopes": ["predict"], "user_id": None}  # one bad entry
    bad = keys(keys_dsn, "sync", stdin=json.dumps(entries))
    assert bad.returncode == 2 and "predict act as a user" in bad.stderr
    restored = keys(keys_dsn, "sync", stdin=json.dumps(client_list()))
    assert json.loads(restored.stdout) == {"changed": ["auditor"]}


def test_neither_role_can_delete_or_widen_a_client(gateway_db, keys_dsn, app_db):
    for dsn, statement in [
        (keys_dsn, "DELETE FROM access.clients WHERE name = 'alice'"),
        (as_login(app_db, "gw"), "UPDATE access.clients SET scopes = '{history:all}'"),
        (
            as_login(app_db, "gw"),
            "INSERT INTO access.clients (name, key_sha256, scopes,"
            " managed_by) VALUES ('x', sha256('x'), '{history:all}', 'gw')",
        ),
    ]:
        conn = psycopg2.connect(dsn)
        try:
            with pytest.raises(psycopg2.errors.InsufficientPrivilege), conn, conn.cursor() as cur:
                cur.execute(statement)
        finally:
            conn.close()


def test_only_services_and_readers_of_all_see_the_models_moves(fn):
    moves = {
        name: fn.get(f"user_id={user_id or 1}", token=key)[1]["production_moves"]
        for name, (key, _, user_id) in CLIENTS.items()
        if name != "gone"
    }
    assert moves["alice"] == []
    assert moves["web-page"] == moves["auditor"]


@pytest.fixture(scope="module")
def iam_function(gateway_db, keys_dsn, pg_cluster, serving_url, tmp_path_factory):
    """The function as deployed on Google Cloud (GATEWAY_AUTH=iam), its tokens' signer a
    stand-in; `web@p.iam.gserviceaccount.com` registered as a service."""
    made = keys(
        keys_dsn,
        "create",
        "web@p.iam.gserviceaccount.com",
        "--google-identity",
        "--scopes",
        "predict,history:own,act-as-any-user",
    )
    assert made.returncode == 0, made.stderr
    signer = Signer("id", "google-1")
    with published([signer]) as (url, _):
        env = env_for(
            pg_cluster,
            serving_url.url,
            GATEWAY_AUTH="iam",
            GATEWAY_IAM_AUDIENCE="https://fn.example/",
            GATEWAY_IAM_CERTS_URL=url,
        )
        with gateway(tmp_path_factory.mktemp("iam"), env) as gw:
            yield gw, signer


def test_behind_iam_the_verified_identity_is_the_client(iam_function, gateway_db):
    gw, signer = iam_function
    issuer = "https://accounts.google.com"
    good = signer.token("https://fn.example/", "web@p.iam.gserviceaccount.com", issuer)
    assert gw.post(REQUEST, token=good)[0] == 200
    before = counts(gateway_db)
    stranger = signer.token("https://fn.example/", "other@p.iam.gserviceaccount.com", issuer)
    assert gw.post(REQUEST, token=stranger)[1:] and gw.post(REQUEST, token=stranger)[0] == 403
    elsewhere = signer.token("https://other.example/", "web@p.iam.gserviceaccount.com", issuer)
    status, _, out = gw.post(REQUEST, token=elsewhere)
    assert status == 401 and "audience" in out["error"]
    assert gw.post(REQUEST, token=CLIENTS["web-page"][0])[0] == 401  # keys mean nothing here
    assert counts(gateway_db) == before
