"""Request bodies -> a validated (rows x 20) int64 matrix in contract order, or a clear error.

Accepted: MLflow's scoring protocol (JSON `dataframe_split`, `dataframe_records`, `instances`,
`inputs`; CSV with a header), a bare JSON list of records (MLflow 1.x clients) and
`{"data": [...records...]}` (the gateway's format). Errors name the row and field and never
echo the payload (values are cut to a few characters).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re

import numpy as np

from attrition.features import FEATURES, NAMES

LOW = np.array([f.low for f in FEATURES], dtype=np.int64)
HIGH = np.array([f.high for f in FEATURES], dtype=np.int64)
RANGE = {f.name: (f.low, f.high) for f in FEATURES}
NAME_SET = frozenset(NAMES)
INTEGER = re.compile(r"-?[0-9]+\Z")
JSON_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs", "data")


class BadRequest(Exception):
    """A client error: HTTP status and a message for the client (and the log)."""

    def __init__(
        self, message: str, status: int = 400, row: int | None = None, field: str | None = None
    ):
        super().__init__(message)
        self.status, self.row, self.field = status, row, field

    def body(self) -> dict:
        out = {"error": str(self)}
        if self.row is not None:
            out["row"] = self.row
        if self.field is not None:
            out["field"] = self.field
        return out


def short(value) -> str:
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


def parse(body: bytes, content_type: str, max_rows: int) -> np.ndarray:
    """The feature matrix of a request body, validated against the contract."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "text/csv":
        columns, rows = from_csv(body)
    elif kind == "application/json":
        columns, rows = from_json(body)
    else:
        raise BadRequest(
            f"unsupported content type {short(kind or '(none)')}: send application/json or"
            " text/csv",
            status=415,
        )
    if not rows:
        raise BadRequest("no rows: send at least one record")
    if len(rows) > max_rows:
        raise BadRequest(f"too many rows: {len(rows)} > the limit of {max_rows}", status=413)
    if columns is None:
        return matrix(records_to_lists(rows))
    return matrix(reorder(columns, rows))


def from_json(body: bytes):
    """(columns or None, rows): rows are dicts when columns is None, else lists."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as err:
        raise BadRequest(f"the body is not valid JSON ({short(str(err))[1:-1]})") from None
    except RecursionError:
        raise BadRequest("the body is not valid JSON (nested too deeply)") from None
    if isinstance(doc, list):
        return None, doc
    if not isinstance(doc, dict):
        raise BadRequest("the JSON body must be an object or a list of records")
    present = [k for k in JSON_KEYS if k in doc]
    if len(present) != 1:
        raise BadRequest(
            "the JSON object needs exactly one of the keys " + ", ".join(JSON_KEYS),
            field=", ".join(present) or None,
        )
    key = present[0]
    value = doc[key]
    if key == "dataframe_split":
        if (
            not isinstance(value, dict)
            or not isinstance(value.get("columns"), list)
            or not isinstance(value.get("data"), list)
        ):
            raise BadRequest("dataframe_split needs `columns` and `data` lists", field=key)
        return value["columns"], value["data"]
    if isinstance(value, dict) and key in ("inputs", "instances"):
        return columns_to_lists(value, key)
    if not isinstance(value, list):
        raise BadRequest(f"{key} must be a list of records", field=key)
    return None, value


def columns_to_lists(value: dict, key: str):
    """{"age": [..], ...} (column form of `inputs`/`instances`) -> (columns, rows)."""
    lengths = {len(v) if isinstance(v, list) else -1 for v in value.values()}
    if len(lengths) != 1 or -1 in lengths:
        raise BadRequest(f"{key}: every column must be a list of the same length", field=key)
    return list(value), [list(r) for r in zip(*value.values())]


def from_csv(body: bytes):
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadRequest(f"the CSV body is not UTF-8 (byte {err.start})") from None
    try:
        lines = list(csv.reader(io.StringIO(text)))
    except csv.Error as err:  # e.g. a field longer than the csv module's limit (128 KiB)
        raise BadRequest(f"the CSV body cannot be read: {err}") from None
    if not lines:
        raise BadRequest("the CSV body is empty: send a header and rows")
    header, rows = lines[0], [r for r in lines[1:] if r]
    for i, row in enumerate(rows):
        if len(row) != len(header):
            raise BadRequest(f"row {i}: {len(row)} values for {len(header)} columns", row=i)
        for j, cell in enumerate(row):
            cell = cell.strip()
            if not INTEGER.match(cell):
                problem = "is not an integer"
            elif len(cell.lstrip("-")) > 18:  # beyond every feature's range (and int()'s bound)
                problem = "is too large"
            else:
                row[j] = int(cell)
                continue
            name = short(header[j])[1:-1]  # a header name is the client's text: bounded
            raise BadRequest(
                f"row {i}, field {name}: {short(cell)} {problem}", row=i, field=header[j][:40]
            )
    return header, rows


def check_columns(names, where: str, row: int | None = None) -> None:
    """Exactly the 20 contract names, each once."""
    if not all(isinstance(n, str) for n in names):
        raise BadRequest(f"{where}: field names must be strings", row=row)
    missing = [n for n in NAMES if n not in names]
    extra = [n for n in names if n not in NAME_SET]
    if missing:
        raise BadRequest(
            f"{where}, field {missing[0]}: missing"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
            row=row,
            field=missing[0],
        )
    if extra:
        raise BadRequest(
            f"{where}, field {short(extra[0])[1:-1]}: not a model feature",
            row=row,
            field=extra[0][:40],
        )
    if len(names) != len(NAMES):
        raise BadRequest(f"{where}: a field appears twice", row=row)


def records_to_lists(rows: list) -> list:
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise BadRequest(f"row {i}: a record must be an object of the 20 features", row=i)
        if row.keys() != NAME_SET:
            check_columns(list(row), f"row {i}", i)
        out.append([row[n] for n in NAMES])
    return out


def reorder(columns: list, rows: list) -> list:
    check_columns(columns, "columns")
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(columns):
            raise BadRequest(f"row {i}: expected a list of {len(columns)} values", row=i)
    if tuple(columns) == NAMES:
        return rows
    order = [columns.index(n) for n in NAMES]
    return [[row[j] for j in order] for row in rows]


def matrix(rows: list) -> np.ndarray:
    """Type and range checks: a fast path for clean input, a slow one that finds the culprit."""
    flat = [v for row in rows for v in row]
    if set(map(type, flat)) == {int}:  # bool is its own type, so True/False do not pass
        try:
            out = np.array(rows, dtype=np.int64)
        except OverflowError:
            out = None
        if out is not None and not ((out < LOW) | (out > HIGH)).any():
            return out
    return np.array(
        [[value(i, n, v) for n, v in zip(NAMES, row)] for i, row in enumerate(rows)], dtype=np.int64
    )


def value(row: int, name: str, v) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        kind = {bool: "a boolean", str: "a string", type(None): "null"}.get(type(v), "not a number")
        raise BadRequest(
            f"row {row}, field {name}: {short(v)} is {kind}, not an integer", row=row, field=name
        )
    if isinstance(v, float):
        if not math.isfinite(v) or not v.is_integer():
            raise BadRequest(
                f"row {row}, field {name}: {short(v)} is not an integer", row=row, field=name
            )
        v = int(v)
    low, high = RANGE[name]
    if not low <= v <= high:
        raise BadRequest(
            f"row {row}, field {name}: {short(v)} is outside {low}..{high}", row=row, field=name
        )
    return v
