"""Checks of the training data and settings that come before any database or tracking server."""

from __future__ import annotations

import numpy as np
import pytest

from attrition import generator
from attrition.training.settings import TrainingSettings
from attrition.training.validate import TrainingDataError, training_set


def test_nulls_and_ranges_are_named():
    frame = generator.generate(300, 3)
    with_null = frame.astype({"Age": "float64"})
    with_null.loc[5, "Age"] = np.nan
    with pytest.raises(TrainingDataError, match=r"null values in: Age \(1\)"):
        training_set(with_null, 200)
    wild = frame.copy()
    wild.loc[7, "JobLevel"] = 9
    with pytest.raises(TrainingDataError, match=r"joblevel: 1 values outside 1..5 \(e.g. 9\)"):
        training_set(wild, 200)


def test_settings_reject_bad_values():
    with pytest.raises(ValueError, match="ATTRITION_MODEL_FAMILY='svm'"):
        TrainingSettings.from_env({"ATTRITION_MODEL_FAMILY": "svm"})
    with pytest.raises(ValueError, match="ATTRITION_MIN_ROWS='many' is not a valid int"):
        TrainingSettings.from_env({"ATTRITION_MIN_ROWS": "many"})
    assert TrainingSettings.from_env({"ATTRITION_PROMOTION_FLOOR": "0.8"}).promotion_floor == 0.8
