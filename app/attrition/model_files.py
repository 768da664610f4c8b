"""Model files that cannot run code, for every process that loads a model (serving, the champion
comparison, promote and roll back).

A model version's own files must not decide how it is loaded: MLflow's sklearn loader accepts
pickle and cloudpickle, and reads skops's trusted types from the version's MLmodel file, so
whoever can write a version's files could run code where it is loaded. Here only the skops format
is accepted, with the trusted types kept in this package (TRUSTED_TYPES), and the file must have
the sha256 recorded in the registry when the version was registered (tag SHA256_TAG). The units
also set MLFLOW_ALLOW_PICKLE_DESERIALIZATION=false, so MLflow's own loader refuses everything.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import yaml

MODEL_FILE = "model.skops"  # MLflow's name for the sklearn flavour's skops file
SHA256_TAG = "model.sha256"
# The types in our model families' files that skops does not trust by default (the trees of
# the two ensembles); tests/unit/test_model_files.py checks every family needs no more.
TRUSTED_TYPES = (
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
)


class UnsafeModel(Exception):
    """The version's files are not what we load: a format, type or checksum we do not accept."""


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()  # kilobytes to a few megabytes


def stored_sha256(model_id: str) -> str:
    """The sha256 of a logged model's file as the artifact store holds it, the bytes every loader
    will get (skops does not write the same bytes twice, so it is read back, not recomputed)."""
    import mlflow
    import mlflow.artifacts

    location = mlflow.get_logged_model(model_id).artifact_location
    with tempfile.TemporaryDirectory(prefix="attrition-sha-") as tmp:
        path = mlflow.artifacts.download_artifacts(f"{location}/{MODEL_FILE}", dst_path=tmp)
        return sha256_of(Path(path))


def load(model_dir: str | Path, expected_sha256: str | None):
    """The pipeline of an MLflow sklearn model directory, saved in skops format, whose file has
    `expected_sha256` (None: a path an operator chose to serve, not a registry version)."""
    import skops.io

    model_dir = Path(model_dir)
    try:
        flavor = yaml.safe_load((model_dir / "MLmodel").read_text())["flavors"]["sklearn"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as err:
        raise UnsafeModel(f"no sklearn flavour in its MLmodel ({type(err).__name__})") from None
    if flavor.get("serialization_format") != "skops" or flavor.get("pickled_model") != MODEL_FILE:
        raise UnsafeModel(
            f"its format is {str(flavor.get('serialization_format'))[:20]!r}: only skops is loaded"
        )
    path = model_dir / MODEL_FILE
    if expected_sha256 is not None:
        if not expected_sha256:
            raise UnsafeModel(f"the registry has no {SHA256_TAG} for it")
        actual = sha256_of(path)
        if actual != expected_sha256:
            raise UnsafeModel(
                f"its {MODEL_FILE} has sha256 {actual[:12]}..., not the registered"
                f" {expected_sha256[:12]}..."
            )
    untrusted = sorted(set(skops.io.get_untrusted_types(file=path)) - set(TRUSTED_TYPES))
    if untrusted:
        raise UnsafeModel(f"its file holds types we do not trust: {', '.join(untrusted)[:200]}")
    return skops.io.load(path, trusted=list(TRUSTED_TYPES))
