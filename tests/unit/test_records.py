"""Validation of employee files: each bad-file case names its row and column."""

from __future__ import annotations

import pytest

from attrition import columns, records
from testkit.csv_files import edit_line, write_rows


def test_ibm_file_is_valid(ibm_csv):
    employee_file = records.read(ibm_csv)
    assert employee_file.rows == 1470
    assert employee_file.header == list(columns.NAMES)
    assert employee_file.raw[employee_file.body_offset :].startswith(b"Age,Attrition,")


def test_lowercase_headers_are_accepted(tmp_path):
    employee_file = records.read(write_rows(tmp_path / "lower.csv", lowercase=True))
    assert employee_file.header == list(columns.NAMES)


def _error(path) -> records.RecordsError:
    with pytest.raises(records.RecordsError) as caught:
        records.read(path)
    return caught.value


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        (
            "MonthlyIncome",
            "abc",
            "row 3 (line 4), column MonthlyIncome: 'abc' is not an integer from 1 to 100000",
        ),
        ("Age", "17", "row 3 (line 4), column Age: '17' is not an integer from 18 to 70"),
        ("Age", "35.5", "column Age: '35.5' is not an integer"),
        ("Age", "-3", "column Age: '-3' is not an integer"),
        ("Age", "", "column Age: no value is not an integer"),
        ("Age", "3 5", "column Age: '3 5' is not an integer"),
        ("Age", "1e1", "column Age: '1e1' is not an integer"),
        ("OverTime", "Maybe", "column OverTime: 'Maybe' is not one of 'Yes', 'No'"),
        ("Attrition", "yes", "column Attrition: 'yes' is not one of 'Yes', 'No'"),
        ("JobRole", "", "column JobRole: no value is not one of"),
    ],
)
def test_bad_value_names_row_and_column(tmp_path, column, value, expected):
    path = edit_line(write_rows(tmp_path / "bad.csv"), 4, column, value)
    err = _error(path)
    assert expected in str(err)
    assert err.rejected == 1
    assert "nothing was written" in str(err)


def test_many_bad_rows_are_counted_and_listed_briefly(tmp_path):
    path = write_rows(tmp_path / "bad.csv", rows=60)
    for line in range(2, 62):
        edit_line(path, line, "Education", "9")
    err = _error(path)
    assert err.rejected == 60
    assert "... and 40 more problems" in str(err)


def test_missing_column(tmp_path):
    path = write_rows(tmp_path / "f.csv")
    frame = records.pd.read_csv(path, encoding="utf-8-sig").drop(columns=["MonthlyIncome"])
    frame.to_csv(path, index=False)
    assert "column MonthlyIncome: missing column" in str(_error(path))


def test_unexpected_and_repeated_columns(tmp_path):
    path = write_rows(tmp_path / "f.csv")
    frame = records.pd.read_csv(path, encoding="utf-8-sig")
    frame["Bonus"] = 1
    frame.to_csv(path, index=False)
    assert "column Bonus: unexpected column (position 36)" in str(_error(path))
    text = path.read_text().replace("Bonus", "age", 1)
    path.write_text(text)
    assert "column Age: appears twice (position 36)" in str(_error(path))


def test_duplicate_employee_numbers(tmp_path):
    path = edit_line(write_rows(tmp_path / "f.csv"), 6, "EmployeeNumber", "2")
    err = _error(path)
    assert "row 2 (line 3), column EmployeeNumber: 2 is repeated in rows 2, 5" in str(err)
    assert err.rejected == 2


def test_header_without_rows(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text(",".join(columns.NAMES) + "\r\n", encoding="utf-8-sig")
    assert "the file has a header but no data rows" in str(_error(path))


def test_empty_file(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"")
    assert "the file is empty" in str(_error(path))


def test_wrong_encoding(tmp_path):
    path = write_rows(tmp_path / "f.csv")
    text = path.read_bytes().decode("utf-8-sig").replace("Sales", "Salés", 1)
    path.write_bytes(text.encode("latin-1"))
    assert "not UTF-8: byte 0xe9 on line" in str(_error(path))


def test_ragged_row(tmp_path):
    path = write_rows(tmp_path / "f.csv")
    with path.open("a", encoding="utf-8", newline="") as out:
        out.write("1,2,3\r\n")
    assert "row 21 (line 22), column" in str(_error(path))


def test_row_with_an_extra_field(tmp_path):
    path = write_rows(tmp_path / "f.csv")
    lines = path.read_bytes().decode("utf-8-sig").split("\r\n")
    lines[3] += ",surplus"
    path.write_text("\r\n".join(lines), encoding="utf-8-sig", newline="")
    assert "not a valid CSV" in str(_error(path))
    assert "line 4" in str(_error(path))
