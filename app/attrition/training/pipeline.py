"""`attrition train`: extract -> validate -> CV + fit -> evaluate -> log -> register -> promote."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import tempfile
import time
import warnings
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, train_test_split

from attrition import model_files
from attrition.settings import operator
from attrition.training import evaluate, model, registry
from attrition.training.extract import extract_with_lineage
from attrition.training.settings import TrainingSettings
from attrition.training.validate import training_set

log = logging.getLogger(__name__)

EXIT_PROMOTED, EXIT_FAILED, EXIT_BAD_DATA, EXIT_NOT_PROMOTED = 0, 1, 2, 3


@contextlib.contextmanager
def step(name: str):
    started = time.perf_counter()
    log.info("step %s: started", name)
    yield
    log.info("step %s: done in %.2f s", name, time.perf_counter() - started)


def fingerprint(records: pd.DataFrame, y: pd.Series) -> dict[str, str]:
    digest = hashlib.sha256(pd.util.hash_pandas_object(records, index=False).to_numpy())
    return {
        "data.rows": str(len(records)),
        "data.positive_share": f"{y.mean():.4f}",
        "data.sha256": digest.hexdigest(),
    }


def cross_validate(settings: TrainingSettings, x: pd.DataFrame, y: pd.Series):
    """Out-of-fold probabilities and per-fold ROC AUC on the training part."""
    folds = StratifiedKFold(settings.cv_folds, shuffle=True, random_state=settings.seed)
    oof = np.zeros(len(y))
    aucs = []
    for train, valid in folds.split(x, y):
        fitted = clone(model.build(settings.model_family, settings.seed))
        fitted.fit(x.iloc[train], y.iloc[train])
        oof[valid] = fitted.predict_proba(x.iloc[valid])[:, 1]
        aucs.append(evaluate.scores(y.iloc[valid], oof[valid], 0.5)["roc_auc"])
    return oof, np.array(aucs)


def run(settings: TrainingSettings) -> int:
    """One run; refuses to start (registry.Busy) while another run of the model holds the lock."""
    with registry.training_lock(settings.database_dsn, settings.model_name):
        return _run(settings)


def _run(settings: TrainingSettings) -> int:
    import mlflow
    from mlflow import MlflowClient

    with step("extract"):
        records, data = extract_with_lineage(settings.database_dsn)
        log.info("extracted %d rows from %s", len(records), data.describe())
    with step("validate"):
        x, y = training_set(records, settings.min_rows)
        data_tags = {**fingerprint(records, y), **data.tags()}
        del records
    with step("check tracking server"):
        client = MlflowClient()
        mlflow.set_experiment(settings.experiment)
    with step("split and cross-validate"):
        x_train, x_hold, y_train, y_hold = train_test_split(
            x, y, test_size=settings.holdout_fraction, stratify=y, random_state=settings.seed
        )
        oof, fold_aucs = cross_validate(settings, x_train, y_train)
        threshold = evaluate.best_f1_threshold(y_train, oof)
        log.info(
            "CV ROC AUC %.4f +- %.4f; threshold %.4f", fold_aucs.mean(), fold_aucs.std(), threshold
        )
    with step("fit"):
        pipeline = model.build(settings.model_family, settings.seed).fit(x_train, y_train)
        proba = pipeline.predict_proba(x_hold)[:, 1]
        holdout = evaluate.scores(y_hold, proba, threshold)
        log.info("holdout: %s", ", ".join(f"{k} {v:.4f}" for k, v in holdout.items()))
    # Our inputs are integers by contract (no missing values), which is what MLflow warns about.
    warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
    with step("log to MLflow"), mlflow.start_run() as active:
        mlflow.set_tags(data_tags)
        mlflow.log_params({**asdict(settings), "database_dsn": "(secret)"})
        mlflow.log_params(
            {
                f"model.{k}": v
                for k, v in pipeline.get_params().items()
                if isinstance(v, (int, float, str, bool, type(None)))
            }
        )
        mlflow.log_metrics(
            {
                "cv_roc_auc_mean": fold_aucs.mean(),
                "cv_roc_auc_std": fold_aucs.std(),
                "threshold": threshold,
                **{f"holdout_{k}": v for k, v in holdout.items()},
            }
        )
        explanation = model.explain(pipeline, list(x.columns))
        with tempfile.TemporaryDirectory(prefix="attrition-plots-") as tmp:
            evaluate.write_plots(Path(tmp), y_hold.to_numpy(), proba, threshold, explanation)
            mlflow.log_artifacts(tmp, artifact_path="evaluation")
        logged = mlflow.sklearn.log_model(
            pipeline, name="model", **model.mlflow_options(pipeline, x_hold.head(1), threshold)
        )
    with step("register"):
        version = registry.register_version(
            client,
            settings.model_name,
            logged,
            {
                "threshold": f"{threshold:.6f}",
                "run_id": active.info.run_id,
                model_files.SHA256_TAG: model_files.stored_sha256(logged.model_id),
                **data.tags(),
                **{f"holdout.{k}": f"{v:.6f}" for k, v in holdout.items()},
            },
        )
        log.info("registered %s version %s", settings.model_name, version.version)
    with step("promote"):
        metric = settings.promotion_metric
        decision = registry.decide(
            client,
            settings.model_name,
            metric,
            settings.promotion_floor,
            settings.promotion_margin,
            holdout[metric],
            data,
            x_hold,
            y_hold,
        )
        decision = registry.promote(
            settings.database_dsn,
            client,
            settings.model_name,
            version.version,
            metric,
            decision,
            data,
            operator(),
        )
    outcome = "promoted to production" if decision.promoted else "NOT promoted"
    log.info("version %s %s: %s", version.version, outcome, decision.reason)
    return EXIT_PROMOTED if decision.promoted else EXIT_NOT_PROMOTED
