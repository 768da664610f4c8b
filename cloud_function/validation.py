"""The public request format, checked against the feature contract (contract.json, generated
from app/attrition/features.py by `python -m attrition.features`; a test keeps them equal)."""

import json
import math
from pathlib import Path

CONTRACT = json.loads((Path(__file__).with_name("contract.json")).read_text())
NAMES = tuple(f["name"] for f in CONTRACT)
RANGES = {f["name"]: (f["low"], f["high"]) for f in CONTRACT}
BIGINT = 2**63 - 1


class Invalid(Exception):
    """400: the message names the field (and row); nothing was stored."""

    def __init__(self, message, field=None, row=None):
        super().__init__(message)
        self.field, self.row = field, row


def short(value) -> str:
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


def digits(value):
    """The int of a string of at most 19 ASCII digits (str.isdigit() also accepts "²", which
    int() refuses; the length bounds int()'s work on hostile input); anything else unchanged."""
    if isinstance(value, str) and value.isdigit() and value.isascii() and len(value) < 20:
        return int(value)
    return value


def user_id(value) -> int:
    """A positive integer (JSON number or digits), never a boolean or text."""
    value = digits(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= BIGINT:
        raise Invalid(f"user_id: {short(value)} is not a positive integer", field="user_id")
    return value


def request(doc, max_rows: int):
    """(user_id, rows as lists in contract order) of a parsed POST body."""
    if not isinstance(doc, dict):
        raise Invalid("the body must be a JSON object with user_id and data")
    extra = sorted(set(doc) - {"user_id", "data"})
    if extra:
        raise Invalid(f"{short(extra[0])[1:-1]}: unexpected field", field=extra[0][:40])
    if "user_id" not in doc:
        raise Invalid("user_id: missing", field="user_id")
    uid = user_id(doc["user_id"])
    data = doc.get("data")
    if not isinstance(data, list):
        raise Invalid("data: missing or not a list of employees", field="data")
    if not data:
        raise Invalid(f"data: empty; send 1 to {max_rows} employees", field="data")
    if len(data) > max_rows:
        raise Invalid(
            f"data: {len(data)} employees, more than the limit of {max_rows}", field="data"
        )
    return uid, [row(i, r) for i, r in enumerate(data)]


def row(i: int, record) -> list:
    if not isinstance(record, dict):
        raise Invalid(f"data[{i}]: not an object of the 20 features", field="data", row=i)
    for name in NAMES:
        if name not in record:
            raise Invalid(f"data[{i}].{name}: missing", field=name, row=i)
    for name in record:
        if name not in RANGES:
            raise Invalid(
                f"data[{i}].{short(name)[1:-1]}: not a model feature", field=str(name)[:40], row=i
            )
    return [value(i, name, record[name]) for name in NAMES]


def value(i: int, name: str, v) -> int:
    where = f"data[{i}].{name}"
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int):
        raise Invalid(f"{where}: {short(v)} is not an integer", field=name, row=i)
    low, high = RANGES[name]
    if not low <= v <= high:
        raise Invalid(f"{where}: {short(v)} is outside {low}..{high}", field=name, row=i)
    return v
