"""The `attrition` command's answers that need no database: checks that come before any
connection, and a database that cannot be reached."""

from __future__ import annotations

from testkit.cli import run_cli
from testkit.csv_files import edit_line, write_rows


def test_unreachable_database_is_a_clear_failure(tmp_path):
    path = write_rows(tmp_path / "f.csv")
    load = run_cli("load-data", "--csv", str(path), dsn="host=/nonexistent dbname=x")
    assert load.returncode == 1
    assert "database error, nothing was written" in load.stderr


def test_generate_rejects_zero_rows(tmp_path):
    gen = run_cli("generate-data", "--rows", "0", "--out", str(tmp_path / "x.csv"))
    assert gen.returncode == 2
    assert "--rows must be at least 1" in gen.stderr


def test_bad_file_is_reported_even_without_a_database(tmp_path):
    """The file is checked before any connection: its problems come first, exit 2."""
    path = edit_line(write_rows(tmp_path / "f.csv"), 4, "Age", "old")
    load = run_cli("load-data", "--csv", str(path), dsn="host=/nonexistent dbname=x")
    assert load.returncode == 2
    assert "row 3 (line 4), column Age: 'old' is not an integer" in load.stderr
    assert "database" not in load.stderr


def test_a_file_that_cannot_be_read_is_a_clear_error(tmp_path):
    """A missing file or a directory: the path and the reason, exit 2, no traceback."""
    for path, reason in [
        (tmp_path / "absent.csv", "No such file or directory"),
        (tmp_path, "Is a directory"),
    ]:
        load = run_cli("load-data", "--csv", str(path), dsn="host=/nonexistent dbname=x")
        assert load.returncode == 2, load.stderr
        assert (
            f"{path}: cannot load, nothing was written:\n  cannot read it: {reason}" in load.stderr
        )
        assert "Traceback" not in load.stderr
