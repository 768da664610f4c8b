"""The synthetic data: deterministic, in the IBM format, valid, and shaped like the IBM data."""

from __future__ import annotations

import hashlib

import pytest

from attrition import generator, records


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a, b, c = (tmp_path / n for n in ("a.csv", "b.csv", "c.csv"))
    generator.write_csv(generator.generate(500, 3), a)
    generator.write_csv(generator.generate(500, 3), b)
    generator.write_csv(generator.generate(500, 4), c)
    assert _sha(a) == _sha(b) != _sha(c)


def test_file_format_is_the_ibm_one(tmp_path, ibm_csv):
    path = tmp_path / "s.csv"
    generator.write_csv(generator.generate(50, 1), path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\r\n") == 51 and raw.count(b"\n") == 51
    assert raw.split(b"\r\n")[0] == ibm_csv.read_bytes().split(b"\r\n")[0]
    assert records.read(path).rows == 50


@pytest.fixture(scope="module")
def big():
    return generator.generate(50_000, 11)


def _rate(frame, mask):
    return (frame.loc[mask, "Attrition"] == "Yes").mean()


def test_attrition_rate_is_close_to_ibm(big):
    assert 0.13 <= (big["Attrition"] == "Yes").mean() <= 0.20


@pytest.mark.parametrize(
    ("risky", "safe"),
    [
        (lambda f: f.OverTime == "Yes", lambda f: f.OverTime == "No"),
        (lambda f: f.MaritalStatus == "Single", lambda f: f.MaritalStatus == "Married"),
        (lambda f: f.MonthlyIncome < 3000, lambda f: f.MonthlyIncome > 10000),
        (lambda f: f.YearsAtCompany <= 2, lambda f: f.YearsAtCompany >= 10),
        (lambda f: f.JobSatisfaction == 1, lambda f: f.JobSatisfaction == 4),
        (lambda f: f.EnvironmentSatisfaction == 1, lambda f: f.EnvironmentSatisfaction == 4),
    ],
    ids=["overtime", "single", "low-income", "short-tenure", "job-satisfaction", "environment"],
)
def test_risk_factors_raise_attrition(big, risky, safe):
    assert _rate(big, risky(big)) > 1.3 * _rate(big, safe(big))


def test_tenure_fields_are_consistent(big):
    assert (big.YearsAtCompany <= big.TotalWorkingYears).all()
    assert (big.YearsInCurrentRole <= big.YearsAtCompany).all()
    assert (big.YearsWithCurrManager <= big.YearsAtCompany).all()
    assert (big.TotalWorkingYears <= big.Age - 18).all()


def test_rows_must_be_positive():
    with pytest.raises(ValueError, match="rows must be at least 1"):
        generator.generate(0, 1)
