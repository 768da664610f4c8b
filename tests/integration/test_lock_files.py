"""files/requirements/lock.sh in a scratch copy of its inputs and locks (it resolves against
PyPI): the documented upgrade of one package moves only that package's pins, and the CI check
fails when an input changed but its lock did not."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from testkit.paths import REPO

LOCKS = ("files/requirements", "cloud_function")
PIN = re.compile(r"^([a-z0-9][a-z0-9._-]*)==(\S+)(?: ; (.*?))?(?: \\)?$", re.MULTILINE)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The lock script, its inputs and its outputs, where changing them harms nothing."""
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    shutil.copytree(REPO / "files/requirements", tmp_path / "files/requirements")
    (tmp_path / "cloud_function").mkdir()
    for name in ("requirements.in", "requirements.txt"):
        shutil.copy(REPO / "cloud_function" / name, tmp_path / "cloud_function")
    return tmp_path


def run(copy: Path, command: str) -> subprocess.CompletedProcess:
    """The command as a user types it, in the copy (with the controller venv's uv)."""
    return subprocess.run(
        command.split(),
        cwd=copy,
        env={**os.environ, "UV": str(REPO / ".venv/bin/uv")},
        capture_output=True,
        text=True,
        timeout=600,
    )


def pins(root: Path) -> dict[str, set[tuple[str, str, str]]]:
    """Every lock file's pins: {file: {(name, version, marker)}}."""
    found = {}
    for folder in LOCKS:
        for lock in sorted((root / folder).glob("*.txt")):
            text = lock.read_text()
            found[f"{folder}/{lock.name}"] = {(n, v, m or "") for n, v, m in PIN.findall(text)}
    return found


def test_upgrading_one_package_moves_only_its_pins(copy):
    before = pins(copy)
    assert sum(len(p) for p in before.values()) > 300
    result = run(copy, "bash files/requirements/lock.sh --upgrade-package urllib3")
    assert result.returncode == 0, result.stderr
    after = pins(copy)
    assert after.keys() == before.keys()
    for lock in before:
        moved = {name for name, _, _ in before[lock] ^ after[lock]}
        assert moved <= {"urllib3"}, (lock, moved)


def test_the_check_fails_when_an_input_changed_but_its_lock_did_not(copy):
    lock = copy / "cloud_function/requirements.txt"
    locked = lock.read_text()
    with (copy / "cloud_function/requirements.in").open("a") as inputs:
        inputs.write("six\n")
    result = run(copy, "bash files/requirements/lock.sh --check")
    assert result.returncode != 0
    assert "cloud_function/requirements.txt is not what its inputs give" in result.stderr
    assert "+six==" in result.stdout
    assert lock.read_text() == locked
