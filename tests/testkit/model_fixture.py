"""Small real models for serving tests, stored exactly as training stores them.

`python -m testkit.model_fixture DIR` writes one to DIR (the serving role's molecule scenario
copies it to the host, so the role is tested without a registry).
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import mlflow
import mlflow.sklearn
from mlflow import MlflowClient

from attrition import features, generator
from attrition.training import model


def training_data(rows: int = 1500, seed: int = 7):
    records = generator.generate(rows, seed=seed)
    return features.from_records(records), (records["Attrition"] == "Yes").astype(int)


def fitted(rows: int = 1500, seed: int = 7, columns=None):
    """A fitted default pipeline; `columns` trains it on fewer features (a broken model)."""
    x, y = training_data(rows, seed)
    if columns is not None:
        x = x[list(columns)]
    return model.build("logistic_regression", seed).fit(x, y), x


# Our features are integers by contract (no missing values), which is what MLflow warns about.
warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")


def save(path: str, threshold: float = 0.3, seed: int = 7) -> None:
    pipeline, x = fitted(seed=seed)
    mlflow.sklearn.save_model(
        pipeline, path, **model.mlflow_options(pipeline, x.head(1), threshold)
    )


NAME = "attrition"


def new_run():
    """A run in the current tracking server's experiment "tests". MLflow remembers the active
    experiment process-wide (set_experiment, as training calls it, also writes os.environ): an
    id from an earlier test's server may not exist on this one."""
    mlflow.set_experiment("tests")
    return mlflow.start_run()


def register(pipeline, x, threshold=0.3, corrupt=False) -> str:
    """A new registered version stored as training stores it (or with its weights garbled)."""
    options = model.mlflow_options(pipeline, x.head(1), threshold)
    if not corrupt:
        with new_run():
            logged = mlflow.sklearn.log_model(pipeline, name="model", **options)
        return mlflow.register_model(logged.model_uri, NAME).version
    with tempfile.TemporaryDirectory() as tmp, new_run() as run:
        mlflow.sklearn.save_model(pipeline, f"{tmp}/model", **options)
        Path(tmp, "model", "model.skops").write_bytes(b"not a skops file")
        mlflow.log_artifacts(f"{tmp}/model", artifact_path="broken")
    return mlflow.register_model(f"runs:/{run.info.run_id}/broken", NAME).version


def promote(version: str) -> None:
    MlflowClient().set_registered_model_alias(NAME, "production", version)


if __name__ == "__main__":
    save(sys.argv[1])
