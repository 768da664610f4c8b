"""The employee-record contract: the 35 IBM HR columns, their types and allowed values.

Defined once here; the loader validates against it, the generator writes it, and a test checks
that the training.employees table (roles/postgres/files/migrations) matches it column for column.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IntColumn:
    name: str
    low: int
    high: int


@dataclass(frozen=True)
class CategoryColumn:
    name: str
    values: tuple[str, ...]


# Ranges are those of the IBM file widened where a real HR system would see more
# (ages 18-70, incomes up to 100,000), so that the synthetic set and future rows fit.
COLUMNS: tuple[IntColumn | CategoryColumn, ...] = (
    IntColumn("Age", 18, 70),
    CategoryColumn("Attrition", ("Yes", "No")),
    CategoryColumn("BusinessTravel", ("Non-Travel", "Travel_Rarely", "Travel_Frequently")),
    IntColumn("DailyRate", 1, 5000),
    CategoryColumn("Department", ("Human Resources", "Research & Development", "Sales")),
    IntColumn("DistanceFromHome", 0, 100),
    IntColumn("Education", 1, 5),
    CategoryColumn(
        "EducationField",
        ("Human Resources", "Life Sciences", "Marketing", "Medical", "Other", "Technical Degree"),
    ),
    IntColumn("EmployeeCount", 1, 1),
    IntColumn("EmployeeNumber", 1, 2_147_483_647),
    IntColumn("EnvironmentSatisfaction", 1, 4),
    CategoryColumn("Gender", ("Female", "Male")),
    IntColumn("HourlyRate", 1, 500),
    IntColumn("JobInvolvement", 1, 4),
    IntColumn("JobLevel", 1, 5),
    CategoryColumn(
        "JobRole",
        (
            "Healthcare Representative",
            "Human Resources",
            "Laboratory Technician",
            "Manager",
            "Manufacturing Director",
            "Research Director",
            "Research Scientist",
            "Sales Executive",
            "Sales Representative",
        ),
    ),
    IntColumn("JobSatisfaction", 1, 4),
    CategoryColumn("MaritalStatus", ("Divorced", "Married", "Single")),
    IntColumn("MonthlyIncome", 1, 100_000),
    IntColumn("MonthlyRate", 1, 100_000),
    IntColumn("NumCompaniesWorked", 0, 30),
    CategoryColumn("Over18", ("Y",)),
    CategoryColumn("OverTime", ("Yes", "No")),
    IntColumn("PercentSalaryHike", 0, 100),
    IntColumn("PerformanceRating", 1, 4),
    IntColumn("RelationshipSatisfaction", 1, 4),
    IntColumn("StandardHours", 1, 168),
    IntColumn("StockOptionLevel", 0, 3),
    IntColumn("TotalWorkingYears", 0, 55),
    IntColumn("TrainingTimesLastYear", 0, 20),
    IntColumn("WorkLifeBalance", 1, 4),
    IntColumn("YearsAtCompany", 0, 55),
    IntColumn("YearsInCurrentRole", 0, 55),
    IntColumn("YearsSinceLastPromotion", 0, 55),
    IntColumn("YearsWithCurrManager", 0, 55),
)

NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
KEY = "EmployeeNumber"


def sql_name(name: str) -> str:
    """Column name in PostgreSQL: snake case of the IBM name (EmployeeNumber -> employee_number)."""
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


SQL_NAMES: tuple[str, ...] = tuple(sql_name(n) for n in NAMES)
