"""The Cloud Function under a real functions-framework, for the tests."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from attrition.web.app import DEFAULTS
from testkit.mlflow_server import STARTUP_SECONDS, free_port
from testkit.paths import CLOUD_FUNCTION
from testkit.pgcluster import grants_sql
from testkit.serving_server import Server

SOURCE = CLOUD_FUNCTION
# The function's test clients, name -> (key, scopes, user id): the web page's service key (acts
# for its signed-in users), a person's key (user 7), a reader of everyone's history, a revoked key.
CLIENTS = {
    "web-page": (
        "atk_test-web-page-0123456789abcdef",
        ("predict", "history:own", "act-as-any-user"),
        None,
    ),
    "alice": ("atk_test-alice-0123456789abcdef", ("predict", "history:own"), 7),
    "auditor": ("atk_test-auditor-0123456789abcdef", ("history:all",), None),
    "gone": ("atk_test-gone-0123456789abcdef", ("predict", "history:own", "act-as-any-user"), None),
}
REVOKED = {"gone"}
TOKEN = CLIENTS["web-page"][0]
# The design's example employee (the web page's defaults are the same one).
SEED = DEFAULTS
# The gateway role's grants (roles/postgres/tasks/privileges.yml) for a test role `gw`.
GRANTS = grants_sql("postgres_gateway_user", "gw", "attrition_test")
KEYS_GRANTS = grants_sql("postgres_keys_user", "keys", "attrition_test")


def client_list() -> list[dict]:
    """CLIENTS as the playbook's list (function_clients_list) gives them to `keys sync`."""
    return [
        {
            "name": name,
            "key_sha256": hashlib.sha256(key.encode()).hexdigest(),
            "scopes": list(scopes),
            "user_id": user_id,
            "revoked": name in REVOKED,
        }
        for name, (key, scopes, user_id) in CLIENTS.items()
    ]


class Gateway(Server):
    def post(self, doc, token: str = TOKEN, headers: dict | None = None, raw: bytes | None = None):
        body = raw if raw is not None else json.dumps(doc).encode()
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        return self.call("/", body, headers={**auth, **(headers or {})})

    def get(self, query: str, token: str = TOKEN):
        auth = {"Authorization": f"Bearer {token}"}
        request = urllib.request.Request(f"{self.url}/?{query}", headers=auth)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())


@contextlib.contextmanager
def gateway(folder: Path, env: dict) -> Iterator[Gateway]:
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = folder / "gateway.log"
    # The unit's multiprocess metrics: a directory that is empty at each start.
    metrics = folder / "metrics"
    shutil.rmtree(metrics, ignore_errors=True)
    metrics.mkdir()
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics), **env}
    with log.open("a") as out:
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("functions-framework")),
                "--target",
                "predict",
                "--source",
                str(SOURCE / "main.py"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Gateway(proc, f"http://127.0.0.1:{port}", log)
    try:
        server.wait_until(
            lambda: server.get("user_id=1")[0] in (200, 401, 503), STARTUP_SECONDS, "the function"
        )
        yield server
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def counts(db) -> tuple[int, int]:
    with db.cursor() as cur:
        cur.execute(
            "SELECT (SELECT count(*) FROM predictions.requests),"
            " (SELECT count(*) FROM predictions.predictions)"
        )
        return cur.fetchone()


def env_for(pg_cluster, serving_url, **extra) -> dict:
    return {
        "GATEWAY_SERVING_URL": serving_url,
        "PGHOST": pg_cluster,
        "PGUSER": "gw",
        "PGDATABASE": "attrition_test",
        "GATEWAY_MAX_ROWS": "50",
        "GATEWAY_SERVING_TIMEOUT": "2",
        "GATEWAY_METRICS_PATH": "/metrics",  # as the gateway role sets it
        **extra,
    }


def record_move(db, action, from_version, to_version, pinned, reason, data_kind) -> None:
    """A row of the production alias's audit trail, as training or set-production write it."""
    with db.cursor() as cur:
        cur.execute(
            "INSERT INTO registry.alias_moves (model_name, alias, action, from_version,"
            " to_version, pinned, reason, data_kind, operator)"
            " VALUES ('attrition', 'production', %s, %s, %s, %s, %s, %s, 'test')",
            (action, from_version, to_version, pinned, reason, data_kind),
        )
