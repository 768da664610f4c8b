"""The model's 20-feature contract: names, integer ranges and how each derives from a record.

Training, serving, the Cloud Function (through a generated copy) and the web page all use this.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from attrition import columns


@dataclass(frozen=True)
class Feature:
    name: str
    low: int
    high: int
    label: str  # what the web form shows


def _passthrough(ibm_name: str, label: str) -> Feature:
    col = next(c for c in columns.COLUMNS if c.name == ibm_name)
    return Feature(ibm_name.lower(), col.low, col.high, label)


FEATURES: tuple[Feature, ...] = (
    _passthrough("Age", "Age (years)"),
    _passthrough("DistanceFromHome", "Distance from home (km)"),
    _passthrough("Education", "Education (1 below college ... 5 doctor)"),
    _passthrough("EnvironmentSatisfaction", "Environment satisfaction (1 low ... 4 very high)"),
    _passthrough("JobLevel", "Job level (1-5)"),
    _passthrough("JobSatisfaction", "Job satisfaction (1 low ... 4 very high)"),
    Feature("maritalstatussingle", 0, 1, "Single (1 yes, 0 no)"),
    _passthrough("MonthlyIncome", "Monthly income"),
    _passthrough("NumCompaniesWorked", "Companies worked at before"),
    Feature("overtime", 0, 1, "Works overtime (1 yes, 0 no)"),
    _passthrough("PercentSalaryHike", "Last salary hike (%)"),
    _passthrough("RelationshipSatisfaction", "Relationship satisfaction (1 low ... 4 very high)"),
    _passthrough("StockOptionLevel", "Stock option level (0-3)"),
    _passthrough("TotalWorkingYears", "Total working years"),
    _passthrough("TrainingTimesLastYear", "Trainings last year"),
    _passthrough("WorkLifeBalance", "Work-life balance (1 bad ... 4 best)"),
    _passthrough("YearsAtCompany", "Years at the company"),
    _passthrough("YearsInCurrentRole", "Years in the current role"),
    _passthrough("YearsSinceLastPromotion", "Years since the last promotion"),
    _passthrough("YearsWithCurrManager", "Years with the current manager"),
)

NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
TARGET = "attrition"


def from_records(frame: pd.DataFrame) -> pd.DataFrame:
    """The 20 features (int64, in contract order) from employee records with IBM column names."""
    out = pd.DataFrame(index=frame.index)
    for f in FEATURES:
        if f.name == "overtime":
            out[f.name] = (frame["OverTime"] == "Yes").astype("int64")
        elif f.name == "maritalstatussingle":
            out[f.name] = (frame["MaritalStatus"] == "Single").astype("int64")
        else:
            ibm = next(n for n in columns.NAMES if n.lower() == f.name)
            out[f.name] = frame[ibm].astype("int64")
    return out


def contract_json() -> str:
    """The contract as JSON: cloud_function/contract.json is this output (the function is
    deployed on its own, without this package)."""
    import json

    return json.dumps([f.__dict__ for f in FEATURES], indent=1) + "\n"


if __name__ == "__main__":  # python -m attrition.features > cloud_function/contract.json
    print(contract_json(), end="")
