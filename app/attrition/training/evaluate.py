"""Metrics, the decision threshold and the plots a person wants to look at."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on a VM
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn import metrics
from sklearn.calibration import CalibrationDisplay


def best_f1_threshold(y_true, proba) -> float:
    """The threshold with the best minority-class F1 on out-of-fold training predictions.

    Chosen on the training folds only, never on the holdout, so holdout figures stay honest."""
    precision, recall, thresholds = metrics.precision_recall_curve(y_true, proba)
    f1 = np.divide(
        2 * precision * recall,
        precision + recall,
        out=np.zeros_like(precision),
        where=(precision + recall) > 0,
    )
    best = int(np.argmax(f1[:-1]))  # the last point has no threshold
    return float(thresholds[best])


def scores(y_true, proba, threshold: float) -> dict[str, float]:
    label = (proba >= threshold).astype(int)
    return {
        "roc_auc": metrics.roc_auc_score(y_true, proba),
        "pr_auc": metrics.average_precision_score(y_true, proba),
        "precision": metrics.precision_score(y_true, label, zero_division=0),
        "recall": metrics.recall_score(y_true, label),
        "f1": metrics.f1_score(y_true, label),
        "balanced_accuracy": metrics.balanced_accuracy_score(y_true, label),
        "brier": metrics.brier_score_loss(y_true, proba),
    }


def write_plots(folder: Path, y_true, proba, threshold: float, explanation) -> list[Path]:
    """ROC, precision-recall, confusion matrix, calibration, coefficients/importances."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []

    def save(fig, name):
        path = folder / name
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)

    fig, ax = plt.subplots(figsize=(5, 5))
    metrics.RocCurveDisplay.from_predictions(y_true, proba, ax=ax, name="holdout")
    save(fig, "roc_curve.png")
    fig, ax = plt.subplots(figsize=(5, 5))
    metrics.PrecisionRecallDisplay.from_predictions(y_true, proba, ax=ax, name="holdout")
    save(fig, "precision_recall_curve.png")
    fig, ax = plt.subplots(figsize=(5, 4))
    metrics.ConfusionMatrixDisplay.from_predictions(
        y_true, (proba >= threshold).astype(int), display_labels=["stays", "leaves"], ax=ax
    )
    ax.set_title(f"threshold {threshold:.3f}")
    save(fig, "confusion_matrix.png")
    fig, ax = plt.subplots(figsize=(5, 5))
    CalibrationDisplay.from_predictions(y_true, proba, n_bins=10, ax=ax, name="holdout")
    save(fig, "calibration.png")

    kind, values = explanation
    if kind is not None:
        table = pd.DataFrame({"feature": values.index, kind: values.to_numpy()})
        table = table.reindex(table[kind].abs().sort_values(ascending=False).index)
        csv = folder / f"feature_{kind}s.csv"
        table.to_csv(csv, index=False)
        written.append(csv)
        fig, ax = plt.subplots(figsize=(6, 6))
        ax.barh(table["feature"][::-1], table[kind][::-1])
        ax.set_xlabel(kind)
        save(fig, f"feature_{kind}s.png")
    return written
