"""Training settings, from the environment (the systemd unit's EnvironmentFile)."""

from __future__ import annotations

from dataclasses import dataclass

from attrition.settings import typed_from_env
from attrition.training import model


@dataclass(frozen=True)
class TrainingSettings:
    # libpq connection string of the read-only trainer role ("" = libpq's PG* variables).
    database_dsn: str = ""
    # MLflow reads MLFLOW_TRACKING_URI/USERNAME/PASSWORD itself; these name what we create.
    experiment: str = "attrition"
    model_name: str = "attrition"
    model_family: str = "logistic_regression"
    promotion_metric: str = "roc_auc"  # a key of evaluate.scores(), on the holdout
    promotion_floor: float = 0.70
    # A challenger worse than the champion by at most this (same holdout, same data) still
    # wins: differences this small are noise (docs/operations.md, "The promotion gate").
    promotion_margin: float = 0.01
    min_rows: int = 200
    holdout_fraction: float = 0.2
    cv_folds: int = 5
    seed: int = 42

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> TrainingSettings:
        settings = cls(**typed_from_env(cls, "ATTRITION_", env))
        settings.check()
        return settings

    def check(self) -> None:
        if self.model_family not in model.FAMILIES:
            raise ValueError(
                f"ATTRITION_MODEL_FAMILY={self.model_family!r}: choose one of"
                f" {', '.join(model.FAMILIES)}"
            )
        metrics = ("roc_auc", "pr_auc", "f1", "balanced_accuracy", "recall", "precision")
        if self.promotion_metric not in metrics:
            raise ValueError(
                f"ATTRITION_PROMOTION_METRIC={self.promotion_metric!r}: choose one of"
                f" {', '.join(metrics)}"
            )
        if not 0 < self.holdout_fraction < 0.5:
            raise ValueError("ATTRITION_HOLDOUT_FRACTION must be between 0 and 0.5")
        if not 0 <= self.promotion_margin < 1:
            raise ValueError("ATTRITION_PROMOTION_MARGIN must be from 0 to below 1")
        if self.cv_folds < 2:
            raise ValueError("ATTRITION_CV_FOLDS must be at least 2")
