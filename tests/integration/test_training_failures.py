"""Training failures in the middle of a run: production and the registry stay consistent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from attrition import loader
from attrition.training import pipeline, registry
from attrition.training.settings import TrainingSettings
from testkit.mlflow_server import bucket_emulator, tracking_server


def _versions(client, name):
    return client.search_model_versions(f"name='{name}'")


def test_bucket_unreachable_mid_run(conn, app_db, ibm_csv, tmp_path, monkeypatch):
    """The bucket dies after the run started: no version is registered, production stays."""
    import mlflow
    from mlflow import MlflowClient

    loader.load_csv(conn, ibm_csv)
    with bucket_emulator(tmp_path / "gcs", "bucket") as gcs:
        env = {"STORAGE_EMULATOR_HOST": gcs.url, "GOOGLE_CLOUD_PROJECT": "test"}
        with tracking_server(tmp_path / "mlflow", "gs://bucket/mlflow", env) as url:
            mlflow.set_tracking_uri(url)
            monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
            name = "attrition-bucket"
            settings = TrainingSettings(database_dsn=app_db, model_name=name)
            assert pipeline.run(settings) == pipeline.EXIT_PROMOTED
            client = MlflowClient()
            before = client.get_model_version_by_alias(name, registry.ALIAS).version
            gcs.kill()
            gcs.wait()
            # Whichever layer notices first raises (MLflow client, requests, socket).
            with pytest.raises(Exception) as caught:
                pipeline.run(settings)
            assert "mlflow" in type(caught.value).__module__ or isinstance(caught.value, OSError)
            assert client.get_model_version_by_alias(name, registry.ALIAS).version == before
            assert [v.version for v in _versions(client, name)] == [before]
            # The failed run is not FINISHED (FAILED, or RUNNING when even ending it was refused).
            runs = client.search_runs([client.get_experiment_by_name("attrition").experiment_id])
            assert len(runs) == 2
            assert [r.info.status for r in runs].count("FINISHED") == 1


def test_killed_run_leaves_production_and_registry_consistent(
    conn, app_db, ibm_csv, tmp_path, monkeypatch
):
    """SIGKILL during the MLflow upload: production untouched, every version loadable."""
    import mlflow
    from mlflow import MlflowClient

    loader.load_csv(conn, ibm_csv)
    with tracking_server(tmp_path / "mlflow") as url:
        mlflow.set_tracking_uri(url)
        name = "attrition-killed"
        assert pipeline.run(TrainingSettings(database_dsn=app_db, model_name=name)) == 0
        client = MlflowClient()
        before = client.get_model_version_by_alias(name, registry.ALIAS).version
        env = {
            **os.environ,
            "MLFLOW_TRACKING_URI": url,
            "ATTRITION_DATABASE_DSN": app_db,
            "ATTRITION_MODEL_NAME": name,
            "TMPDIR": str(tmp_path),
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "attrition.cli", "train"],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        for line in proc.stderr:
            if "step log to MLflow: started" in line or time.monotonic() > deadline:
                break
        time.sleep(0.5)  # into the upload
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        assert client.get_model_version_by_alias(name, registry.ALIAS).version == before
        for version in _versions(client, name):  # none points at missing artifacts
            mlflow.sklearn.load_model(f"models:/{name}/{version.version}")
