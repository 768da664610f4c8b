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
    """A validated file: its text (BOM removed) for COPY and its header in contract names."""

    text: str
    header: list[str]
    rows: int


def read(path: Path) -> EmployeeFile:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise RecordsError(
            path,
            [Problem(None, None, f"not UTF-8: byte 0x{raw[err.start]:02x} on line {line}")],
        ) from None
    if not text.strip():
        raise RecordsError(path, [Problem(None, None, "the file is empty (no header, no rows)")])
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=False
        )
    except pd.errors.ParserError as err:
        raise RecordsError(path, [Problem(None, None, f"not a valid CSV: {err}")]) from None
    header = _canonical_header(path, list(frame.columns))
    frame.columns = header
    if frame.empty:
        raise RecordsError(path, [Problem(None, None, "the file has a header but no data rows")])
    problems, bad_rows = _check_values(frame)
    problems += _check_duplicate_keys(frame)
    if problems:
        raise RecordsError(path, problems, rejected=len(bad_rows | _duplicate_rows(frame)))
    return EmployeeFile(text=text, header=header, rows=len(frame))


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
        values = frame[col.name].astype(object)
        if isinstance(col, columns.IntColumn):
            text = values.fillna("").astype(str)
            digits = text.str.isdigit() & text.str.isascii() & (text.str.len() <= 10)
            numbers = pd.to_numeric(text.where(digits), errors="coerce")
            bad = ~digits | (numbers < col.low) | (numbers > col.high)
            expected = f"an integer from {col.low} to {col.high}"
        else:
            bad = ~values.isin(col.values)
            expected = "one of " + ", ".join(repr(v) for v in col.values)
        for index in frame.index[bad.to_numpy()]:
            value = values[index]
            shown = "no value" if value is None or value == "" else f"{str(value)[:40]!r}"
            problems.append(Problem(index + 1, col.name, f"{shown} is not {expected}"))
            bad_rows.add(index)
    problems.sort(key=lambda p: (p.row or 0, columns.NAMES.index(p.column or "Age")))
    return problems, bad_rows


def _duplicate_rows(frame: pd.DataFrame) -> set[int]:
    return set(frame.index[frame[columns.KEY].duplicated(keep=False)])


def _check_duplicate_keys(frame: pd.DataFrame) -> list[Problem]:
    dupes = frame[frame[columns.KEY].duplicated(keep=False)]
    problems = []
    for key, group in dupes.groupby(columns.KEY, sort=False):
        rows = ", ".join(str(i + 1) for i in group.index)
        problems.append(
            Problem(int(group.index[0]) + 1, columns.KEY, f"{key} is repeated in rows {rows}")
        )
    return problems
