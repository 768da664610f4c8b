"""Model files that cannot run code: only skops, with the package's trusted types, and only the
bytes that were registered (attrition.model_files). Local model directories, no server."""

from __future__ import annotations

import mlflow.sklearn
import numpy as np
import pytest
import skops.io
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from attrition import model_files
from attrition.training import model
from testkit.model_fixture import fitted, training_data


@pytest.fixture(scope="module")
def good():
    pipeline, x = fitted(rows=300)
    return pipeline, x


def save(folder, pipeline, x, **extra):
    path = folder / "model"
    options = {**model.mlflow_options(pipeline, x.head(1), 0.3), **extra}
    mlflow.sklearn.save_model(pipeline, str(path), **options)
    return path


@pytest.mark.parametrize("family", model.FAMILIES)
def test_the_trusted_types_cover_every_model_family(family):
    x, y = training_data(100)  # the types do not depend on how well it fits
    pipeline = model.build(family, 1).fit(x, y)
    needed = skops.io.get_untrusted_types(data=skops.io.dumps(pipeline))
    assert set(needed) <= set(model_files.TRUSTED_TYPES)


def test_a_registered_file_loads_and_predicts_as_before(tmp_path, good):
    pipeline, x = good
    path = save(tmp_path, pipeline, x)
    loaded = model_files.load(path, model_files.sha256_of(path / model_files.MODEL_FILE))
    np.testing.assert_array_equal(loaded.predict_proba(x), pipeline.predict_proba(x))


def test_an_operators_path_loads_without_a_checksum(tmp_path, good):
    assert model_files.load(save(tmp_path, *good), None) is not None


@pytest.mark.parametrize(
    ("expected", "words"), [("0" * 64, "not the registered"), ("", "has no model.sha256")]
)
def test_other_bytes_than_registered_are_refused(tmp_path, good, expected, words):
    with pytest.raises(model_files.UnsafeModel, match=words):
        model_files.load(save(tmp_path, *good), expected)


def test_a_pickled_model_is_refused_before_anything_is_read(tmp_path, good):
    path = save(tmp_path, *good, serialization_format="cloudpickle", skops_trusted_types=None)
    with pytest.raises(model_files.UnsafeModel, match="only skops is loaded"):
        model_files.load(path, None)


def test_types_the_models_own_metadata_trusts_are_not_trusted(tmp_path, good):
    pipeline, x = good
    evil = Pipeline([("evil", FunctionTransformer(func=eval)), ("model", pipeline)])
    trusted = skops.io.get_untrusted_types(data=skops.io.dumps(evil))
    path = tmp_path / "model"
    options = {**model.mlflow_options(pipeline, x.head(1), 0.3), "skops_trusted_types": trusted}
    mlflow.sklearn.save_model(evil, str(path), **options)
    assert "builtins.eval" in (path / "MLmodel").read_text()  # MLflow's loader would trust it
    with pytest.raises(model_files.UnsafeModel, match=r"types we do not trust: builtins\.eval"):
        model_files.load(path, None)


def test_mlflows_own_loader_refuses_when_pickle_is_off(tmp_path, good, monkeypatch):
    """The units' MLFLOW_ALLOW_PICKLE_DESERIALIZATION=false: a load that bypassed model_files
    fails instead of trusting the file."""
    path = save(tmp_path, *good)
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")
    with pytest.raises(Exception, match="MLFLOW_ALLOW_PICKLE_DESERIALIZATION"):
        mlflow.sklearn.load_model(str(path))
