"""The promotion gate, the pin, compare-and-set, the run lock and the audit trail, against real
PostgreSQL (the trainer's grants) and a real tracking server."""

from __future__ import annotations

import contextlib
import http.server
import os
import subprocess
import sys
import threading

import psycopg2
import pytest
from mlflow import MlflowClient

from attrition import loader
from attrition.training import pipeline, registry
from attrition.training.settings import TrainingSettings
from testkit.csv_files import write_rows
from testkit.model_fixture import BROKEN, fitted, new_run, register


def _run(dsn, name, **overrides) -> int:
    return pipeline.run(TrainingSettings(database_dsn=dsn, model_name=name, **overrides))


def _alias(name) -> str:
    from mlflow import MlflowClient

    return MlflowClient().get_model_version_by_alias(name, registry.ALIAS).version


def _tags(name, version) -> dict:
    from mlflow import MlflowClient

    return MlflowClient().get_model_version(name, version).tags


def _moves(dsn, name):
    return list(reversed(registry.history(dsn, name)))


def _cli(dsn, *args, **env):
    env = {**os.environ, "ATTRITION_DATABASE_DSN": dsn, "ATTRITION_OPERATOR": "alice", **env}
    return subprocess.run(
        [sys.executable, "-m", "attrition.cli", *args], capture_output=True, text=True, env=env
    )


def test_other_data_kind_replaces_the_champion(conn, trainer_dsn, tmp_path, ibm_csv, mlflow_env):
    """Synthetic fleet -> the real file: the real challenger replaces the synthetic champion
    whatever their scores, and says why; both moves are in the audit trail."""
    name = "gate-kind"
    loader.load_csv(conn, write_rows(tmp_path / "syn.csv", rows=1500, seed=5), kind="synthetic")
    assert _run(trainer_dsn, name) == pipeline.EXIT_PROMOTED
    loader.load_csv(conn, ibm_csv)
    assert _run(trainer_dsn, name) == pipeline.EXIT_PROMOTED
    assert _alias(name) == "2"
    reason = _tags(name, "2")["promotion.reason"]
    assert reason.startswith("champion version 1 learned from other data (synthetic:syn.csv)")
    assert f"the current data is real:{ibm_csv.name}" in reason
    moves = _moves(trainer_dsn, name)
    assert [(m.action, m.from_version, m.to_version, m.data_kind) for m in moves] == [
        ("promote", None, 1, "synthetic"),
        ("promote", 1, 2, "real"),
    ]
    assert moves[1].reason == reason and moves[1].db_account == "trainer_test"
    assert moves[1].challenger_score > 0.7 and moves[1].metric == "roc_auc"


def _broken_version(name, identity, production=True) -> str:
    """A registered version whose model files cannot be loaded (in production by default)."""
    import mlflow
    from mlflow import MlflowClient

    with new_run() as run:
        mlflow.log_text("this is not an MLmodel file: [", "model/MLmodel")
    tags = {"threshold": "0.5", "data.identity": identity}
    version = mlflow.register_model(f"runs:/{run.info.run_id}/model", name, tags=tags).version
    if production:
        MlflowClient().set_registered_model_alias(name, registry.ALIAS, version)
    return version


def test_unloadable_champion_is_skipped(conn, trainer_dsn, ibm_csv, mlflow_env):
    name = "gate-broken"
    loader.load_csv(conn, ibm_csv)
    _broken_version(name, loader.status(conn).identity)
    assert _run(trainer_dsn, name) == pipeline.EXIT_PROMOTED
    assert _alias(name) == "2"
    assert (
        "champion version 1 is skipped: it cannot be loaded" in _tags(name, "2")["promotion.reason"]
    )


@pytest.mark.parametrize("how", ["tampered", "pickled", "untrusted"])
def test_an_unsafe_version_is_never_loaded_by_training_or_by_hand(
    conn, trainer_dsn, ibm_csv, mlflow_env, how
):
    """A version whose file is not the registered bytes, is pickled, or holds a type only its own
    metadata trusts: set-production refuses it, and as production (an alias anyone with registry
    access could move) the next run skips it as champion instead of loading it."""
    name = f"gate-unsafe-{how}"
    loader.load_csv(conn, ibm_csv)
    good, x = fitted(seed=1)
    identity = {"data.identity": loader.status(conn).identity}
    version = register(good, x, broken=how, name=name, tags=identity)
    refused = _cli(trainer_dsn, "set-production", version, "--model", name, "--reason", "try")
    assert refused.returncode == 1
    assert BROKEN[how] in refused.stderr
    MlflowClient().set_registered_model_alias(name, registry.ALIAS, version)
    assert _run(trainer_dsn, name) == pipeline.EXIT_PROMOTED
    reason = _tags(name, str(int(version) + 1))["promotion.reason"]
    assert f"champion version {version} is skipped" in reason
    assert BROKEN[how] in reason


class _Proxy(http.server.BaseHTTPRequestHandler):
    """Forwards to the tracking server; answers 503 to reads of artifacts whose path holds
    `failing` (when set)."""

    upstream: str
    failing = ""

    def _forward(self):
        import http.client
        import urllib.parse

        artifact = self.command == "GET" and "/mlflow-artifacts/" in self.path
        if self.failing and artifact and self.failing in self.path:
            self.send_error(503, "artifact store unavailable")
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
        target = urllib.parse.urlsplit(self.upstream)
        upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        upstream.request(self.command, self.path, body=body or None, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def _proxy(upstream: str):
    handler = type("Handler", (_Proxy,), {"upstream": upstream})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield handler, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_transient_error_scoring_the_champion_fails_the_run(
    conn, trainer_dsn, ibm_csv, mlflow_env, monkeypatch
):
    """The champion cannot be scored for a reason that is not its own (the tracking server
    answers 503 to reads of the champion's files): the run fails (the CLI's exit 1), production
    stays where it was, and no move is recorded."""
    import mlflow
    from mlflow import MlflowClient

    name = "gate-transient"
    loader.load_csv(conn, ibm_csv)
    with _proxy(mlflow_env) as (handler, url):
        mlflow.set_tracking_uri(url)
        assert _run(trainer_dsn, name) == pipeline.EXIT_PROMOTED
        champion = MlflowClient().get_model_version(name, "1")
        handler.failing = champion.source.removeprefix("models:/")  # its logged model's id
        with pytest.raises(Exception, match="503"):
            _run(trainer_dsn, name)
    mlflow.set_tracking_uri(mlflow_env)
    assert _alias(name) == "1"
    # Version 2 was registered: the run failed while scoring the champion, not before.
    assert "promotion.decision" not in _tags(name, "2")
    assert [m.to_version for m in _moves(trainer_dsn, name)] == [1]


def test_pin_compare_and_set_and_history(conn, trainer_dsn, ibm_csv, mlflow_env):
    from mlflow import MlflowClient

    name = "gate-pin"
    loader.load_csv(conn, ibm_csv)
    for _ in range(2):  # same data, a tie: the second is promoted
        assert _run(trainer_dsn, name) == pipeline.EXIT_PROMOTED
    back = _cli(trainer_dsn, "set-production", "1", "--model", name, "--reason", "incident 7")
    assert back.returncode == 0, back.stderr
    # Pinned: a scheduled-style run registers version 3 and leaves production alone.
    assert _run(trainer_dsn, name) == pipeline.EXIT_NOT_PROMOTED
    assert _alias(name) == "1"
    assert "production is pinned at version 1" in _tags(name, "3")["promotion.reason"]
    assert _tags(name, "3")["promotion.decision"] == "not promoted"
    unpin = _cli(trainer_dsn, "unpin", "--model", name, "--reason", "incident 7 closed")
    assert unpin.returncode == 0, unpin.stderr
    assert "unpinned at version 1" in unpin.stdout
    again = _cli(trainer_dsn, "unpin", "--model", name, "--reason", "twice")
    assert "is not pinned; nothing changed" in again.stdout
    # Someone moves the alias in the MLflow UI (no record): the next move records it first,
    # and a run that compared against another champion does not overwrite it.
    MlflowClient().set_registered_model_alias(name, registry.ALIAS, "2")
    stale = registry.Decision(True, "better", 0.9, 0.8, "1")
    data = loader.status(conn)
    final = registry.promote(trainer_dsn, MlflowClient(), name, "3", "roc_auc", stale, data, "t")
    assert not final.promoted
    assert "production moved from version 1 to 2 during this run" in final.reason
    assert _alias(name) == "2"
    moves = _moves(trainer_dsn, name)
    assert [(m.action, m.from_version, m.to_version, m.pinned) for m in moves] == [
        ("promote", None, 1, False),
        ("promote", 1, 2, False),
        ("manual", 2, 1, True),
        ("unpin", 1, 1, False),
        ("reconcile", 1, 2, False),
    ]
    assert moves[2].operator == "alice" and moves[2].reason == "incident 7"
    history = _cli(trainer_dsn, "history", "--model", name)
    assert history.returncode == 0, history.stderr
    lines = history.stdout.splitlines()
    assert lines[0] == f"{name}@production is version 2; moves, newest first:"
    assert "reconcile 1 -> 2" in lines[1] and "moved outside these tools" in lines[1]
    assert "manual    2 -> 1 pinned  by alice (trainer_test)" in lines[3]
    assert "incident 7" in lines[3]


def test_manual_move_to_an_unloadable_version_is_refused(trainer_dsn, mlflow_env):
    """A clear error, no traceback, nothing moved or recorded."""
    name = "manual-broken"
    version = _broken_version(name, "real:x.csv", production=False)
    refused = _cli(trainer_dsn, "set-production", version, "--model", name, "--reason", "try")
    assert refused.returncode == 1
    assert "production unchanged:" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert registry.current_champion(MlflowClient(), name) is None
    assert _moves(trainer_dsn, name) == []


def test_history_notices_an_unrecorded_move(conn, trainer_dsn, ibm_csv, mlflow_env):
    """A crash between moving the alias and committing its row (here: a move made without a
    row) is reported by `history` (exit 1) and recorded by `history --reconcile`."""
    from mlflow import MlflowClient

    name = "gate-crash"
    loader.load_csv(conn, ibm_csv)
    for _ in range(2):
        _run(trainer_dsn, name)
    MlflowClient().set_registered_model_alias(name, registry.ALIAS, "1")
    report = _cli(trainer_dsn, "history", "--model", name)
    assert report.returncode == 1
    assert "WARNING: the last recorded move left version 2, not 1" in report.stdout
    fixed = _cli(trainer_dsn, "history", "--model", name, "--reconcile")
    assert fixed.returncode == 0, fixed.stderr
    assert "reconcile 2 -> 1" in fixed.stdout.splitlines()[1]


def test_one_training_run_at_a_time(conn, trainer_dsn, ibm_csv, mlflow_env):
    loader.load_csv(conn, ibm_csv)
    name = "gate-lock"
    with registry.training_lock(trainer_dsn, name):
        busy = _cli(trainer_dsn, "train", ATTRITION_MODEL_NAME=name)
    assert busy.returncode == 4
    assert f"another training run of model '{name}' is in progress" in busy.stderr
    # The lock dies with its connection: the next run may take it.
    with registry.training_lock(trainer_dsn, name):
        pass


def test_audit_trail_is_append_only_for_the_trainer(trainer_dsn):
    conn = psycopg2.connect(trainer_dsn)
    try:
        for statement in (
            "UPDATE registry.alias_moves SET reason = 'x'",
            "DELETE FROM registry.alias_moves",
        ):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege), conn:
                conn.cursor().execute(statement)
    finally:
        conn.close()
