"""Small builders for test CSV files in the IBM format."""

from __future__ import annotations

from pathlib import Path

from attrition import generator


def write_rows(path: Path, rows: int = 20, seed: int = 1, lowercase: bool = False) -> Path:
    frame = generator.generate(rows, seed)
    if lowercase:
        frame.columns = [c.lower() for c in frame.columns]
    generator.write_csv(frame, path)
    return path


def edit_line(path: Path, line: int, column: str, value: str) -> Path:
    """Replace one value: `line` is the file's 1-based line number, `column` a header name."""
    text = path.read_bytes().decode("utf-8-sig")
    lines = text.split("\r\n")
    header = lines[0].split(",")
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = value
    lines[line - 1] = ",".join(cells)
    path.write_text("\r\n".join(lines), encoding="utf-8-sig", newline="")
    return path
