"""The model families: scikit-learn Pipelines that hold all their preprocessing."""

from __future__ import annotations

import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

FAMILIES = ("logistic_regression", "gradient_boosting", "random_forest")
# What loading a stored model needs, pinned to the versions that trained it (MLflow adds itself).
# Named here because MLflow would otherwise infer them by loading the model in a subprocess,
# about 7 s of every training run, to find the same list.
MODEL_REQUIREMENTS = ("scikit-learn", "skops", "pandas")


def build(family: str, seed: int) -> Pipeline:
    """An unfitted pipeline. The scaler is inside it, so the logged model scales its own input
    (the prototype fitted the scaler outside and its served model said "No" to everyone)."""
    if family == "logistic_regression":
        # No class weights: the decision threshold (chosen on the training folds) handles the
        # imbalance, and the probabilities stay calibrated (they are what a person is shown).
        # bench/compare_models.py: CV ROC AUC 0.811, minority F1 0.518 at the chosen threshold.
        return Pipeline(
            [
                ("scale", StandardScaler()),
                ("classify", LogisticRegression(C=1.0, max_iter=2000)),
            ]
        )
    if family == "gradient_boosting":
        return Pipeline(
            [
                (
                    "classify",
                    HistGradientBoostingClassifier(
                        learning_rate=0.05,
                        max_iter=300,
                        max_leaf_nodes=15,
                        l2_regularization=1.0,
                        class_weight="balanced",
                        random_state=seed,
                    ),
                )
            ]
        )
    if family == "random_forest":
        return Pipeline(
            [
                (
                    "classify",
                    RandomForestClassifier(
                        n_estimators=300,
                        min_samples_leaf=5,
                        class_weight="balanced_subsample",
                        n_jobs=-1,
                        random_state=seed,
                    ),
                )
            ]
        )
    raise ValueError(f"unknown model family {family!r}; choose one of {', '.join(FAMILIES)}")


def explain(pipeline: Pipeline, names: list[str]):
    """(kind, values by feature name): coefficients of a linear model, else impurity importances."""
    final = pipeline.named_steps["classify"]
    if hasattr(final, "coef_"):
        return "coefficient", pd.Series(final.coef_[0], index=names)
    if hasattr(final, "feature_importances_"):
        return "importance", pd.Series(final.feature_importances_, index=names)
    return None, None


def mlflow_options(pipeline: Pipeline, example: pd.DataFrame, threshold: float) -> dict:
    """How a fitted pipeline is stored as an MLflow model (log_model/save_model keywords):
    skops format (not pickle), signature, input example, requirements, the decision threshold."""
    from importlib.metadata import version

    import skops.io
    from mlflow.models import infer_signature

    return {
        # The types skops does not trust by default are the estimators we just built (trees of
        # a forest, for instance), so we vouch for them.
        "skops_trusted_types": skops.io.get_untrusted_types(data=skops.io.dumps(pipeline)),
        "signature": infer_signature(example, pipeline.predict_proba(example)[:, 1]),
        "input_example": example,
        "metadata": {"threshold": threshold},
        "pip_requirements": [f"{name}=={version(name)}" for name in MODEL_REQUIREMENTS],
    }
