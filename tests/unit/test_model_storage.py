"""How a trained pipeline is stored: MLflow's sklearn flavour in skops format, with the
requirements we name (pinned to what trained it) instead of ones MLflow infers."""

from __future__ import annotations

from importlib.metadata import version

import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest

from attrition.training import model


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.integers(0, 5, (200, 3)), columns=["a", "b", "c"])
    y = (x["a"] > 2).astype(int)
    pipeline = model.build("logistic_regression", 42).fit(x, y)
    path = tmp_path_factory.mktemp("stored") / "model"
    mlflow.sklearn.save_model(pipeline, path, **model.mlflow_options(pipeline, x.head(1), 0.4))
    return path


def test_requirements_are_ours_and_pinned(stored):
    lines = (stored / "requirements.txt").read_text().split()
    wanted = [f"{name}=={version(name)}" for name in model.MODEL_REQUIREMENTS]
    assert sorted(lines) == sorted([f"mlflow=={mlflow.__version__}", *wanted])


def test_the_model_is_skops_and_loads_with_its_threshold(stored):
    assert "skops" in (stored / "MLmodel").read_text()
    loaded = mlflow.pyfunc.load_model(str(stored))
    assert loaded.metadata.metadata["threshold"] == 0.4
