"""Read and validate an employee CSV in the IBM format, without touching any database.

Accepts the IBM file as published (UTF-8 with BOM, CRLF, capitalised headers) and the
lowercase-header variant. Every problem names its row, its file line and its column.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from attrition import columns

MAX_REPORTED = 20  # problems listed in an error; the count covers all of them


@dataclass(frozen=True)
class Problem:
    row: int | None  # 1-based data row; None for file-level problems
    column: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row} (line {self.row + 1})")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class RecordsError(Exception):
    """The file cannot be loaded; nothing was written. `rejected` counts the bad data rows."""

    def __init__(self, path: Path, problems: list[Problem], rejected: int = 0) -> None:
        self.path = path
        self.problems = problems
        self.rejected = rejected
        shown = "\n".join(f"  {p}" for p in problems[:MAX_REPORTED])
        more = len(problems) - MAX_REPORTED
        tail = f"\n  ... and {more} more problems" if more > 0 else ""
        counts = f" ({rejected} rows rejected)" if rejected else ""
        super().__init__(f"{path}: cannot load{counts}, nothing was written:\n{shown}{tail}")


@dataclass(frozen=True)
class EmployeeFile:
    """A validated file: its bytes (for COPY; skip `body_offset` to pass the BOM), its header
    in contract names, and its row count."""

    raw: bytes
    body_offset: int
    header: list[str]
    rows: int


BOM = b"\xef\xbb\xbf"


def read(path: Path) -> EmployeeFile:
    try:
        raw = path.read_bytes()
    except OSError as err:  # missing, a directory, not readable by the loading account
        raise RecordsError(path, [Problem(None, None, f"cannot read it: {err.strerror}")]) from None
    _check_encoding(path, raw)
    if not raw.strip(BOM + b" \r\n\t"):
        raise RecordsError(path, [Problem(None, None, "the file is empty (no header, no rows)")])
    found = list(_parse(path, raw, nrows=0).columns)
    header = _canonical_header(path, found)
    # Categories parse straight into pandas categoricals and integers into int64 (the C parser's
    # fast path); only a column that fails to parse as integers is checked cell by cell.
    categories = {f: "category" for f, h in zip(found, header) if h in _CATEGORY_NAMES}
    frame = _parse(path, raw, dtype=categories)
    frame.columns = header
    for position, name in enumerate(header):
        if name in _INTEGER_NAMES and not pd.api.types.is_integer_dtype(frame[name]):
            # Not all integers: re-read the column as text, to check and show each cell as written.
            frame[name] = _parse(path, raw, usecols=[position], dtype=str).iloc[:, 0]
    if frame.empty:
        raise RecordsError(path, [Problem(None, None, "the file has a header but no data rows")])
    problems, bad_rows = _check_values(frame)
    duplicate_problems, duplicate_rows = _check_duplicate_keys(frame)
    problems += duplicate_problems
    if problems:
        raise RecordsError(path, problems, rejected=len(bad_rows | duplicate_rows))
    offset = len(BOM) if raw.startswith(BOM) else 0
    return EmployeeFile(raw=raw, body_offset=offset, header=header, rows=len(frame))


_CATEGORY_NAMES = {c.name for c in columns.COLUMNS if isinstance(c, columns.CategoryColumn)}
_INTEGER_NAMES = {c.name for c in columns.COLUMNS if isinstance(c, columns.IntColumn)}


def _check_encoding(path: Path, raw: bytes) -> None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise RecordsError(
            path,
            [Problem(None, None, f"not UTF-8: byte 0x{raw[err.start]:02x} on line {line}")],
        ) from None


def _parse(path: Path, raw: bytes, **options) -> pd.DataFrame:
    try:
        return pd.read_csv(
            io.BytesIO(raw),
            encoding="utf-8-sig",
            na_filter=False,
            skip_blank_lines=False,
            **options,
        )
    except pd.errors.ParserError as err:
        raise RecordsError(path, [Problem(None, None, f"not a valid CSV: {err}")]) from None


def _canonical_header(path: Path, found: list[str]) -> list[str]:
    by_lower = {name.lower(): name for name in columns.NAMES}
    problems = []
    header = []
    for position, name in enumerate(found, start=1):
        canonical = by_lower.get(str(name).strip().lower())
        if canonical is None:
            problems.append(Problem(None, str(name), f"unexpected column (position {position})"))
        elif canonical in header:
            problems.append(Problem(None, canonical, f"appears twice (position {position})"))
        header.append(canonical or str(name))
    problems += [
        Problem(None, name, "missing column") for name in columns.NAMES if name not in header
    ]
    if problems:
        raise RecordsError(path, problems)
    return header


def _check_values(frame: pd.DataFrame) -> tuple[list[Problem], set[int]]:
    problems: list[Problem] = []
    bad_rows: set[int] = set()
    for col in columns.COLUMNS:
        values = frame[col.name]
        if isinstance(col, columns.IntColumn):
            bad = _bad_integers(values, col)
            expected = f"an integer from {col.low} to {col.high}"
        else:
            bad = ~values.isin(col.values)
            expected = "one of " + ", ".join(repr(v) for v in col.values)
        for index in frame.index[bad.to_numpy()]:
            value = values[index]
            shown = "no value" if pd.isna(value) or value == "" else f"{str(value)[:40]!r}"
            problems.append(Problem(index + 1, col.name, f"{shown} is not {expected}"))
            bad_rows.add(index)
    problems.sort(key=lambda p: (p.row or 0, columns.NAMES.index(p.column or "Age")))
    return problems, bad_rows


def _bad_integers(values: pd.Series, col: columns.IntColumn) -> pd.Series:
    if pd.api.types.is_integer_dtype(values):
        return (values < col.low) | (values > col.high)
    # As the C parser reads integers (and PostgreSQL does): surrounding blanks are fine;
    # decimals, exponents and thousands separators are not.
    text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    text = text.str.removeprefix("+")
    digits = text.str.isdigit() & text.str.isascii() & (text.str.len() <= 10)
    numbers = pd.to_numeric(text.where(digits), errors="coerce")
    return ~digits | (numbers < col.low) | (numbers > col.high)


def _check_duplicate_keys(frame: pd.DataFrame) -> tuple[list[Problem], set[int]]:
    dupes = frame[frame[columns.KEY].duplicated(keep=False)]
    problems = []
    for key, group in dupes.groupby(columns.KEY, sort=False):
        rows = ", ".join(str(i + 1) for i in group.index)
        problems.append(
            Problem(int(group.index[0]) + 1, columns.KEY, f"{key} is repeated in rows {rows}")
        )
    return problems, set(dupes.index)
