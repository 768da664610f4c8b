"""Synthetic employee records in the IBM file's format, so the system runs with no download.

Distributions follow the IBM data's (see shared data README); attrition is drawn from a logistic
model in which overtime, low income, being single, short tenure, low satisfaction, frequent travel
and a long commute raise the risk, at roughly the IBM rate of 16 %. Deterministic per seed;
vectorised, so a million rows take seconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from attrition import columns

# Job roles by department, as in the IBM data.
ROLES = {
    "Research & Development": (
        [
            "Research Scientist",
            "Laboratory Technician",
            "Manufacturing Director",
            "Healthcare Representative",
            "Research Director",
            "Manager",
        ],
        [0.30, 0.27, 0.15, 0.14, 0.08, 0.06],
    ),
    "Sales": (["Sales Executive", "Sales Representative", "Manager"], [0.73, 0.19, 0.08]),
    "Human Resources": (["Human Resources", "Manager"], [0.83, 0.17]),
}
INCOME_BY_LEVEL = np.array([0, 2800, 5500, 9800, 15500, 19200])


def generate(rows: int, seed: int) -> pd.DataFrame:
    if rows < 1:
        raise ValueError("rows must be at least 1")
    rng = np.random.default_rng(seed)
    n = rows

    def choice(values, p):
        return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=p)]

    def levels(p):  # ordinal 1..len(p)
        return rng.choice(len(p), size=n, p=p) + 1

    age = np.clip(np.rint(rng.normal(37, 9, n)), 18, 60).astype(int)
    total_years = np.clip(np.rint((age - 18) * rng.uniform(0.25, 1.0, n)), 0, 40).astype(int)
    job_level = np.clip(np.floor(1 + total_years / 8 + rng.normal(0, 0.7, n)), 1, 5).astype(int)
    income = INCOME_BY_LEVEL[job_level] * rng.lognormal(0, 0.18, n)
    income = np.clip(np.rint(income), 1009, 19999).astype(int)
    at_company = np.rint(total_years * rng.uniform(0, 1, n) ** 0.9).astype(int)
    in_role = np.rint(at_company * rng.uniform(0, 0.85, n)).astype(int)
    with_manager = np.rint(at_company * rng.uniform(0, 0.85, n)).astype(int)
    since_promotion = np.rint(at_company * rng.uniform(0, 1, n) ** 2).astype(int)
    companies = np.minimum(rng.poisson(1 + total_years / 6), 9)
    marital = choice(["Married", "Single", "Divorced"], [0.46, 0.32, 0.22])
    single = marital == "Single"
    stock = np.where(single, 0, choice([0, 1, 2, 3], [0.25, 0.55, 0.13, 0.07])).astype(int)
    overtime = rng.random(n) < 0.28
    travel = choice(["Travel_Rarely", "Travel_Frequently", "Non-Travel"], [0.71, 0.19, 0.10])
    distance = np.clip(np.rint(rng.exponential(8, n)), 1, 29).astype(int)
    env_sat, job_sat, rel_sat = (levels([0.19, 0.19, 0.31, 0.31]) for _ in range(3))
    balance = levels([0.05, 0.23, 0.61, 0.11])
    hike = np.clip(11 + rng.poisson(4, n), 11, 25)
    department = choice(list(ROLES), [0.65, 0.31, 0.04])
    role = np.empty(n, dtype=object)
    for dept, (names, p) in ROLES.items():
        mask = department == dept
        role[mask] = np.asarray(names, dtype=object)[rng.choice(len(names), mask.sum(), p=p)]

    logit = (
        -3.0
        + 1.5 * overtime
        + 0.9 * single
        - 0.00012 * (income - 6500)
        - 0.07 * (at_company - 7)
        - 0.35 * (env_sat - 2.7)
        - 0.35 * (job_sat - 2.7)
        - 0.30 * (balance - 2.8)
        + 0.6 * (travel == "Travel_Frequently")
        + 0.03 * (distance - 9)
        - 0.03 * (age - 37)
        + 0.12 * (companies - 2.7)
    )
    leaves = rng.random(n) < 1 / (1 + np.exp(-logit))

    data = {
        "Age": age,
        "Attrition": np.where(leaves, "Yes", "No"),
        "BusinessTravel": travel,
        "DailyRate": rng.integers(102, 1500, n),
        "Department": department,
        "DistanceFromHome": distance,
        "Education": levels([0.12, 0.19, 0.39, 0.27, 0.03]),
        "EducationField": choice(
            [
                "Life Sciences",
                "Medical",
                "Marketing",
                "Technical Degree",
                "Other",
                "Human Resources",
            ],
            [0.41, 0.32, 0.11, 0.09, 0.05, 0.02],
        ),
        "EmployeeCount": np.ones(n, dtype=int),
        "EmployeeNumber": np.arange(1, n + 1),
        "EnvironmentSatisfaction": env_sat,
        "Gender": choice(["Male", "Female"], [0.6, 0.4]),
        "HourlyRate": rng.integers(30, 101, n),
        "JobInvolvement": levels([0.06, 0.26, 0.59, 0.09]),
        "JobLevel": job_level,
        "JobRole": role,
        "JobSatisfaction": job_sat,
        "MaritalStatus": marital,
        "MonthlyIncome": income,
        "MonthlyRate": rng.integers(2094, 27000, n),
        "NumCompaniesWorked": companies,
        "Over18": np.full(n, "Y"),
        "OverTime": np.where(overtime, "Yes", "No"),
        "PercentSalaryHike": hike,
        "PerformanceRating": np.where(hike >= 20, 4, 3),
        "RelationshipSatisfaction": rel_sat,
        "StandardHours": np.full(n, 80),
        "StockOptionLevel": stock,
        "TotalWorkingYears": total_years,
        "TrainingTimesLastYear": levels([0.04, 0.05, 0.37, 0.34, 0.08, 0.08, 0.04]) - 1,
        "WorkLifeBalance": balance,
        "YearsAtCompany": at_company,
        "YearsInCurrentRole": in_role,
        "YearsSinceLastPromotion": since_promotion,
        "YearsWithCurrManager": with_manager,
    }
    return pd.DataFrame(data, columns=list(columns.NAMES))


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write in the IBM file's own format: UTF-8 with BOM, CRLF, capitalised headers."""
    frame.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
