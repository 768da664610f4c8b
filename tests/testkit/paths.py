"""Where the repository's parts and the shared data set are, seen from the tests."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLOUD_FUNCTION = REPO / "cloud_function"
MIGRATIONS = REPO / "roles/postgres/files/migrations"
STRATEGY_PLUGINS = REPO / "files/ansible/strategy_plugins"
# The real IBM HR data set sits beside the repository (../shared/data), not in it.
IBM_CSV = REPO.parent / "shared/data/ibm-hr-attrition.csv"
# The monitoring's own programs (roles/exporters, roles/monitoring).
JOB_OUTCOME = REPO / "roles/exporters/files/usr/local/sbin/attrition-job-outcome"
ALERT_LOG = REPO / "roles/monitoring/files/alert-log.py"
