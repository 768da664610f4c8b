"""The training pipeline against real PostgreSQL and a real MLflow tracking server."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attrition import generator, loader, model_files
from attrition.training import pipeline, registry
from attrition.training.settings import TrainingSettings
from attrition.training.validate import TrainingDataError, training_set
from testkit.model_fixture import new_run


def settings(dsn, **overrides) -> TrainingSettings:
    return TrainingSettings(database_dsn=dsn, **overrides)


def test_ibm_data_trains_registers_and_promotes(
    conn, trainer_dsn, app_db, ibm_csv, mlflow_env, tmp_path
):
    """As the trainer account: its grants are enough for a whole run."""
    import json

    import mlflow
    from mlflow import MlflowClient

    load = loader.load_csv(conn, ibm_csv)
    name = "attrition-ibm"
    assert pipeline.run(settings(trainer_dsn, model_name=name)) == pipeline.EXIT_PROMOTED
    client = MlflowClient()
    champion = client.get_model_version_by_alias(name, registry.ALIAS)
    assert champion.tags["promotion.decision"] == "promoted"
    run = client.get_run(champion.run_id)
    m = run.data.metrics
    assert m["cv_roc_auc_mean"] >= 0.80  # the quality bar on the IBM data
    for key in (
        "cv_roc_auc_std",
        "holdout_roc_auc",
        "holdout_pr_auc",
        "holdout_f1",
        "holdout_precision",
        "holdout_recall",
        "holdout_balanced_accuracy",
        "holdout_brier",
        "threshold",
    ):
        assert key in m
    assert run.data.tags["data.rows"] == "1470"
    # Lineage: the run and the version name the load they learned from.
    sha256 = "a5c31e38bd7fafc9bc333884eb181b06b41b8e5e488e8f7ccb27199fb3be7659"
    expected = [
        {"id": load.load_id, "source": ibm_csv.name, "kind": "real", "sha256": sha256, "rows": 1470}
    ]
    for tags in (run.data.tags, champion.tags):
        assert tags["data.kind"] == "real"
        assert json.loads(tags["data.loads"]) == expected
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "evaluation")}
    assert {
        "evaluation/roc_curve.png",
        "evaluation/confusion_matrix.png",
        "evaluation/calibration.png",
        "evaluation/precision_recall_curve.png",
        "evaluation/feature_coefficients.csv",
    } <= artifacts

    # Loaded back by alias as serving loads it (the file's bytes are the registered ones), the
    # model reproduces the pipeline's holdout probabilities exactly.
    from sklearn.model_selection import train_test_split

    from attrition.training.extract import extract

    x, y = training_set(extract(app_db), 200)
    _, x_hold, _, y_hold = train_test_split(x, y, test_size=0.2, stratify=y, random_state=42)
    path = mlflow.artifacts.download_artifacts(f"models:/{name}@production", dst_path=str(tmp_path))
    served = model_files.load(path, champion.tags[model_files.SHA256_TAG])
    proba = served.predict_proba(x_hold)[:, 1]
    from attrition.training import evaluate

    again = evaluate.scores(y_hold, proba, float(champion.tags["threshold"]))
    assert again["roc_auc"] == pytest.approx(m["holdout_roc_auc"], abs=0)
    # The scaler travels inside the model: real rows get both answers, not "No" for everyone.
    labels = proba >= float(champion.tags["threshold"])
    assert 0 < labels.mean() < 1


def _install_champion(name, estimator, x, y, identity: str) -> str:
    """Register `estimator` fitted on (x, y), as learned from data `identity`, and point
    production at it."""
    import mlflow
    import skops.io
    from mlflow import MlflowClient

    fitted = estimator.fit(x, y)
    with new_run():
        trusted = skops.io.get_untrusted_types(data=skops.io.dumps(fitted))
        info = mlflow.sklearn.log_model(fitted, name="model", skops_trusted_types=trusted)
    tags = {
        "threshold": "0.5",
        "data.identity": identity,
        model_files.SHA256_TAG: model_files.stored_sha256(info.model_id),
    }
    version = mlflow.register_model(info.model_uri, name, tags=tags).version
    MlflowClient().set_registered_model_alias(name, registry.ALIAS, version)
    return version


@pytest.mark.parametrize(
    ("champion_kind", "margin", "expected"),
    [
        ("strong", 0.01, pipeline.EXIT_NOT_PROMOTED),
        ("strong", 0.5, pipeline.EXIT_PROMOTED),
        ("weak", 0.01, pipeline.EXIT_PROMOTED),
    ],
)
def test_champion_challenger(conn, app_db, ibm_csv, mlflow_env, champion_kind, margin, expected):
    """A champion that saw the holdout (strong) must keep production, unless the margin is wider
    than its lead; one trained on shuffled labels (weak) must lose it. Both are judged on the
    challenger's holdout, and learned from the same data as the challenger."""
    from mlflow import MlflowClient
    from sklearn.ensemble import HistGradientBoostingClassifier

    from attrition.training.extract import extract

    loader.load_csv(conn, ibm_csv)
    identity = loader.status(conn).identity
    x, y = training_set(extract(app_db), 200)
    name = f"attrition-{champion_kind}-champion-{margin}"
    if champion_kind == "strong":
        model = HistGradientBoostingClassifier(max_iter=500)
        old = _install_champion(name, model, x, y, identity)
    else:
        shuffled = pd.Series(np.random.default_rng(0).permutation(y.to_numpy()), index=y.index)
        model = HistGradientBoostingClassifier(max_iter=50)
        old = _install_champion(name, model, x, shuffled, identity)
    run_settings = settings(app_db, model_name=name, promotion_margin=margin)
    assert pipeline.run(run_settings) == expected
    client = MlflowClient()
    now = client.get_model_version_by_alias(name, registry.ALIAS).version
    tags = client.get_model_version(name, str(int(old) + 1)).tags
    assert tags["champion.version"] == old
    challenger, champion = float(tags["challenger.roc_auc"]), float(tags["champion.roc_auc"])
    if expected == pipeline.EXIT_NOT_PROMOTED:
        assert now == old
        assert tags["promotion.decision"] == "not promoted"
        assert challenger < champion
    else:
        assert now == str(int(old) + 1)
        assert tags["promotion.decision"] == "promoted"
        assert challenger >= champion - margin
    assert f"(margin {margin})" in tags["promotion.reason"]


def test_floor_blocks_a_first_model(conn, app_db, ibm_csv, mlflow_env):
    from mlflow import MlflowClient

    loader.load_csv(conn, ibm_csv)
    name = "attrition-floor"
    code = pipeline.run(settings(app_db, model_name=name, promotion_floor=0.99))
    assert code == pipeline.EXIT_NOT_PROMOTED
    client = MlflowClient()
    assert registry.current_champion(client, name) is None
    version = client.get_model_version(name, "1")
    assert "below the floor 0.99" in version.tags["promotion.reason"]


def test_empty_table_fails_before_mlflow(conn, app_db):
    with pytest.raises(TrainingDataError, match="only 0 training rows"):
        pipeline.run(settings(app_db))


def test_single_class_fails(conn, app_db, tmp_path):
    frame = generator.generate(300, 3).assign(Attrition="No")
    generator.write_csv(frame, tmp_path / "f.csv")
    loader.load_csv(conn, tmp_path / "f.csv")
    with pytest.raises(TrainingDataError, match="only one class"):
        pipeline.run(settings(app_db))


def test_database_unreachable():
    import psycopg2

    with pytest.raises(psycopg2.OperationalError):
        pipeline.run(settings("host=/nonexistent dbname=x"))


def test_tracking_server_unreachable(conn, app_db, ibm_csv, monkeypatch):
    import mlflow
    from mlflow.exceptions import MlflowException

    loader.load_csv(conn, ibm_csv)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    mlflow.set_tracking_uri("http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(MlflowException):
        pipeline.run(settings(app_db))


def test_generated_data_trains_well(conn, app_db, tmp_path, mlflow_env):
    frame = generator.generate(3000, 5)
    generator.write_csv(frame, tmp_path / "s.csv")
    loader.load_csv(conn, tmp_path / "s.csv")
    assert pipeline.run(settings(app_db, model_name="attrition-synthetic")) == 0


def test_manual_rollback_and_refusals(conn, app_db, trainer_dsn, ibm_csv, mlflow_env):
    import os
    import subprocess
    import sys

    from mlflow import MlflowClient

    loader.load_csv(conn, ibm_csv)
    name = "attrition-rollback"
    for _ in range(2):
        pipeline.run(settings(app_db, model_name=name, promotion_floor=0.5))
    client = MlflowClient()
    assert client.get_model_version_by_alias(name, registry.ALIAS).version == "2"

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "attrition.cli", "set-production", *args, "--model", name],
            capture_output=True,
            text=True,
            env={**os.environ, "ATTRITION_DATABASE_DSN": trainer_dsn},
        )

    back = cli("1", "--reason", "incident 42: roll back")
    assert back.returncode == 0, back.stderr
    assert back.stdout.startswith(f"{name}@production: version 2 -> 1 (pinned:")
    version = client.get_model_version_by_alias(name, registry.ALIAS)
    assert version.version == "1"
    assert version.tags["promotion.reason"] == "incident 42: roll back"
    missing = cli("9", "--reason", "typo")
    assert missing.returncode == 1
    assert "production unchanged" in missing.stderr
    assert client.get_model_version_by_alias(name, registry.ALIAS).version == "1"
