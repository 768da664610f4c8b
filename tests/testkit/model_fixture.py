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
import skops.io
from mlflow import MlflowClient
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from attrition import features, generator, model_files
from attrition.training import model

SHA = model_files.SHA256_TAG


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


def register(pipeline, x, threshold=0.3, broken: str | None = None, name=NAME, tags=None) -> str:
    """A new registered version of `name` stored as training stores it (with the sha256 of its
    file, and `tags`), or broken one way (BROKEN)."""
    tags = dict(tags or {})
    options = model.mlflow_options(pipeline, x.head(1), threshold)
    if broken is None:
        with new_run():
            logged = mlflow.sklearn.log_model(pipeline, name="model", **options)
        tags[SHA] = model_files.stored_sha256(logged.model_id)
        return mlflow.register_model(logged.model_uri, name, tags=tags).version
    if broken == "pickled":
        options = {**options, "serialization_format": "cloudpickle", "skops_trusted_types": None}
    if broken == "untrusted":  # a step that names a dangerous function; its MLmodel trusts it
        pipeline = Pipeline([("evil", FunctionTransformer(func=eval)), ("model", pipeline)])
        trusted = skops.io.get_untrusted_types(data=skops.io.dumps(pipeline))
        options = {**options, "skops_trusted_types": trusted}
    with tempfile.TemporaryDirectory() as tmp, new_run() as run:
        mlflow.sklearn.save_model(pipeline, f"{tmp}/model", **options)
        stored = Path(tmp, "model", model_files.MODEL_FILE if broken != "pickled" else "model.pkl")
        sha = model_files.sha256_of(stored)
        if broken == "garbled":  # registered so: the file itself is broken
            stored.write_bytes(b"not a skops file")
            sha = model_files.sha256_of(stored)
        if broken == "tampered":  # a valid model of other weights, swapped in after registering
            other, _ = fitted(seed=99)
            skops.io.dump(other, stored)
        mlflow.log_artifacts(f"{tmp}/model", artifact_path="model")
    if broken != "unrecorded":
        tags[SHA] = sha
    return mlflow.register_model(f"runs:/{run.info.run_id}/model", name, tags=tags).version


# Each way a version can be broken, and the words serving's refusal has for it.
BROKEN = {
    "garbled": "cannot load",
    "tampered": "not the registered",
    "pickled": "only skops is loaded",
    "untrusted": "types we do not trust: builtins.eval",
    "unrecorded": "has no model.sha256",
}


def promote(version: str) -> None:
    MlflowClient().set_registered_model_alias(NAME, "production", version)


if __name__ == "__main__":
    save(sys.argv[1])
