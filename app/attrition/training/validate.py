"""Checks on the extracted rows before anything reaches MLflow."""

from __future__ import annotations

import pandas as pd

from attrition import features


class TrainingDataError(Exception):
    """The training data cannot produce a trustworthy model; nothing was logged."""


def training_set(records: pd.DataFrame, min_rows: int) -> tuple[pd.DataFrame, pd.Series]:
    """The 20 features and the 0/1 target, or TrainingDataError naming what is wrong."""
    if len(records) < min_rows:
        raise TrainingDataError(
            f"only {len(records)} training rows; at least {min_rows} are needed"
        )
    nulls = records.isna().sum()
    if nulls.any():
        found = ", ".join(f"{name} ({count})" for name, count in nulls[nulls > 0].items())
        raise TrainingDataError(f"null values in: {found}")
    target = records["Attrition"].map({"Yes": 1, "No": 0})
    if target.isna().any():
        bad = records.loc[target.isna(), "Attrition"].unique()[:5]
        raise TrainingDataError(f"Attrition must be Yes or No, found {list(bad)}")
    counts = target.value_counts()
    if len(counts) < 2:
        raise TrainingDataError(
            f"only one class in the data (Attrition = {'Yes' if counts.index[0] else 'No'});"
            " both are needed"
        )
    minority = int(counts.min())
    if minority < 10:
        raise TrainingDataError(f"only {minority} rows of the minority class; at least 10 needed")
    x = features.from_records(records)
    problems = []
    for f in features.FEATURES:
        outside = (x[f.name] < f.low) | (x[f.name] > f.high)
        if outside.any():
            problems.append(
                f"{f.name}: {int(outside.sum())} values outside {f.low}..{f.high}"
                f" (e.g. {x.loc[outside, f.name].iloc[0]})"
            )
    if problems:
        raise TrainingDataError("out-of-range feature values: " + "; ".join(problems))
    return x, target.astype("int64")
