#!/usr/bin/env bash
# Audits every lock file against OSV's advisories (the PyPA advisory database and GitHub's, by
# package and exact version) with pip-audit, from the controller's dev venv. CI runs it (fleet.sh
# test). Where OSV cannot be reached (none of our machines can: docs/operations.md) it says so
# and passes, unless AUDIT_REQUIRED=1:
#   bash files/requirements/audit.sh
# pip-audit reads a universal lock's pins for the Python running it (the controller's).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
OSV_URL=${OSV_URL:-https://api.osv.dev/v1/query}

if ! curl --silent --max-time 10 --output /dev/null --data '{}' "$OSV_URL"; then
  echo "audit not run: the advisory source $OSV_URL cannot be reached from here" >&2
  [[ ${AUDIT_REQUIRED:-0} != 1 ]]
  exit
fi
# One lock at a time (pip-audit refuses a package pinned in two files of one run); --strict: a
# package that could not be audited fails the audit too.
status=0
for lock in files/requirements/*.txt cloud_function/requirements.txt; do
  echo "== $lock"
  "$REPO/.venv/bin/pip-audit" --strict --disable-pip --progress-spinner off \
    --vulnerability-service osv --osv-url "$OSV_URL" --requirement "$lock" || status=1
done
exit $status
