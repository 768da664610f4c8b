"""The `attrition` command run as a user runs it, in a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys


def run_cli(*args, dsn="", stdin=""):
    """`attrition ARGS` with ATTRITION_DATABASE_DSN=dsn; the CompletedProcess (text)."""
    env = {**os.environ, "ATTRITION_DATABASE_DSN": dsn}
    return subprocess.run(
        [sys.executable, "-m", "attrition.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
    )
