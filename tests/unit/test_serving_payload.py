"""Request bodies: every accepted format gives the same matrix; every bad input a named error."""

from __future__ import annotations

import json

import numpy as np
import pytest

from attrition.features import FEATURES, NAMES
from attrition.serving.payload import BadRequest, parse

ROW = {f.name: (f.low + f.high) // 2 for f in FEATURES}
ROW2 = {f.name: f.low for f in FEATURES}
EXPECTED = np.array([[ROW[n] for n in NAMES], [ROW2[n] for n in NAMES]])


def as_json(doc) -> bytes:
    return json.dumps(doc).encode()


def reversed_split():
    cols = list(reversed(NAMES))
    return {
        "dataframe_split": {"columns": cols, "data": [[r[c] for c in cols] for r in (ROW, ROW2)]}
    }


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(as_json([ROW, ROW2]), id="bare list (MLflow 1.x)"),
        pytest.param(as_json({"dataframe_records": [ROW, ROW2]}), id="dataframe_records"),
        pytest.param(as_json(reversed_split()), id="dataframe_split, any column order"),
        pytest.param(as_json({"instances": [ROW, ROW2]}), id="instances"),
        pytest.param(as_json({"inputs": [ROW, ROW2]}), id="inputs records"),
        pytest.param(
            as_json({"inputs": {n: [ROW[n], ROW2[n]] for n in NAMES}}), id="inputs columns"
        ),
        pytest.param(as_json({"data": [ROW, ROW2]}), id="gateway data"),
        pytest.param(as_json([{**ROW, "age": float(ROW["age"])}, ROW2]), id="integral float"),
    ],
)
def test_accepted_json_formats(body):
    out = parse(body, "application/json; charset=utf-8", 10)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, EXPECTED)


def test_csv():
    cols = list(reversed(NAMES))
    text = ",".join(cols) + "\n" + "\n".join(",".join(str(r[c]) for c in cols) for r in (ROW, ROW2))
    np.testing.assert_array_equal(parse(text.encode(), "text/csv", 10), EXPECTED)


def error(body: bytes, ctype="application/json", max_rows=10) -> BadRequest:
    with pytest.raises(BadRequest) as caught:
        parse(body, ctype, max_rows)
    return caught.value


@pytest.mark.parametrize(
    ("row", "field", "words"),
    [
        ({**ROW, "age": "37"}, "age", "'37' is a string, not an integer"),
        ({**ROW, "overtime": True}, "overtime", "True is a boolean"),
        ({**ROW, "age": None}, "age", "None is null"),
        ({**ROW, "age": 37.5}, "age", "37.5 is not an integer"),
        ({**ROW, "age": [1]}, "age", "not a number"),
        ({**ROW, "age": 17}, "age", "17 is outside 18..70"),
        ({**ROW, "monthlyincome": 10**30}, "monthlyincome", "is outside"),
        ({k: v for k, v in ROW.items() if k != "overtime"}, "overtime", "missing"),
        ({**ROW, "salary": 1}, "salary", "not a model feature"),
    ],
)
def test_bad_rows_name_row_and_field(row, field, words):
    err = error(as_json([ROW2, row]))
    assert err.status == 400
    assert (err.row, err.field) == (1, field)
    assert words in str(err)
    assert str(err).startswith(f"row 1, field {field}")


def test_nan_is_rejected():
    body = json.dumps([{**ROW, "age": float("nan")}]).encode()  # json writes NaN
    assert "nan is not an integer" in str(error(body))


def test_long_values_are_not_echoed():
    err = error(as_json([{**ROW, "age": "x" * 5000}]))
    assert len(str(err)) < 120


def test_long_csv_header_names_are_not_echoed():
    header = ",".join([*NAMES[:-1], "n" * 120_000]).encode()
    err = error(header + b"\n" + b"1," * 19 + b"x\n", "text/csv")
    assert len(str(err)) < 120
    assert len(json.dumps(err.body())) < 200


@pytest.mark.parametrize(
    ("body", "ctype", "status", "words"),
    [
        (b"{not json", "application/json", 400, "not valid JSON"),
        (b"\xff\xfe", "application/json", 400, "not valid JSON"),
        (b"[" * 100_000, "application/json", 400, "not valid JSON"),
        (as_json([ROW]), "text/plain", 415, "unsupported content type"),
        (as_json([ROW]), "", 415, "(none)"),
        (as_json([]), "application/json", 400, "no rows"),
        (as_json({"rows": [ROW]}), "application/json", 400, "exactly one of the keys"),
        (as_json({"instances": [ROW], "inputs": [ROW]}), "application/json", 400, "exactly one"),
        (as_json(42), "application/json", 400, "an object or a list"),
        (as_json({"dataframe_records": ROW}), "application/json", 400, "list of records"),
        (as_json([[1, 2]]), "application/json", 400, "row 0: a record must be an object"),
        (as_json([ROW] * 11), "application/json", 413, "too many rows: 11 > the limit of 10"),
        (
            as_json({"dataframe_split": {"columns": list(NAMES)}}),
            "application/json",
            400,
            "needs `columns` and `data`",
        ),
        (
            as_json({"dataframe_split": {"columns": list(NAMES), "data": [[1]]}}),
            "application/json",
            400,
            "row 0: expected a list of 20 values",
        ),
        (
            as_json({"dataframe_split": {"columns": [*NAMES, "age"], "data": [[1] * 21]}}),
            "application/json",
            400,
            "appears twice",
        ),
        (
            as_json({"inputs": {"age": [1, 2], "overtime": [1]}}),
            "application/json",
            400,
            "same length",
        ),
        (b"age,overtime\n1,2\n", "text/csv", 400, "columns, field distancefromhome: missing"),
        (b"", "text/csv", 400, "CSV body is empty"),
        (
            ",".join(NAMES).encode() + b"\n" + b"1," * 19 + b"x\n",
            "text/csv",
            400,
            "field yearswithcurrmanager: 'x' is not an integer",
        ),
        (",".join(NAMES).encode() + b"\n1,2\n", "text/csv", 400, "row 0: 2 values for 20"),
        (
            ",".join(NAMES).encode() + b"\n" + b"1," * 19 + b"9" * 5000 + b"\n",
            "text/csv",
            400,
            "field yearswithcurrmanager: '99999999999999999999... is too large",
        ),
        (
            ",".join(NAMES).encode() + b"\n" + b"1," * 19 + b"x" * 131_073 + b"\n",
            "text/csv",
            400,
            "the CSV body cannot be read: field larger than field limit",
        ),
    ],
)
def test_bad_bodies(body, ctype, status, words):
    err = error(body, ctype)
    assert err.status == status
    assert words in str(err)
