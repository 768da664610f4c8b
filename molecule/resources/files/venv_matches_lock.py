"""Run by a venv's own python with its builds folder (venv-builds/): exit 1 unless the venv the
link points to holds exactly the pins of the lock beside it (markers evaluated for this Python),
plus our own packages (those not on PyPI), and nothing else."""

import re
import sys
from importlib.metadata import distributions
from pathlib import Path

from pip._vendor.packaging.markers import Marker  # pip is in every venv; packaging may not be
from pip._vendor.packaging.utils import canonicalize_name

OURS = {"attrition"}
# What `python3 -m venv` puts in every venv before the lock: its own pip and, on Python before
# 3.12, setuptools (a lock that pins setuptools replaces it).
VENV_OWN = {"pip", "setuptools"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)(?: ; ([^\\]*?))?\s*(?:\\)?$", re.M)

builds = Path(sys.argv[1])
wanted = {
    canonicalize_name(name): version
    for name, version, marker in PIN.findall((builds / "requirements.txt").read_text())
    if not marker or Marker(marker).evaluate()
}
installed = {canonicalize_name(d.metadata["Name"]): d.version for d in distributions()}
missing = {n: v for n, v in wanted.items() if installed.get(n) != v}
extra = {n: v for n, v in installed.items() if n not in wanted and n not in OURS | VENV_OWN}
if missing or extra:
    sys.exit(f"{sys.prefix}: not its lock: wanted {missing}, not in the lock {extra}")
print(f"{sys.prefix}: {len(wanted)} pins, as locked")
