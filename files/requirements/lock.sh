#!/usr/bin/env bash
# Makes the lock files: every package each venv gets, pinned, with the sha256 of every file PyPI
# has for that version, resolved for every Python our targets have (uv's universal mode: a
# package may get one pin per Python version). Hosts and the controller install them with
# `uv pip install --require-hashes` (uv itself from installer.txt, by pip, hash-checked too).
# Run with the controller's venv made (fleet.sh venv):
#   bash files/requirements/lock.sh                          re-lock; every pin the inputs allow stays
#   bash files/requirements/lock.sh --upgrade-package NAME   NAME (and what it needs) to the newest
#   bash files/requirements/lock.sh --upgrade                everything to the newest
#   bash files/requirements/lock.sh --check                  fail if a lock is not what its inputs give
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
UV=${UV:-$REPO/.venv/bin/uv}
LOCKS=files/requirements

check=false options=()
if [[ ${1:-} == --check ]]; then check=true; else options=("$@"); fi

# lock OUTPUT OLDEST-PYTHON INPUT... [uv options]: OLDEST-PYTHON is the oldest target that runs it.
lock() {
  local output=$1 python=$2 target
  shift 2
  target=$output
  if $check; then target=$(mktemp) && cp "$output" "$target"; fi
  "$UV" pip compile --quiet --universal --generate-hashes --python-version "$python" \
    --custom-compile-command "bash $LOCKS/lock.sh" --output-file "$target" \
    "$@" "${options[@]}"
  if $check; then
    if ! diff -u "$output" "$target"; then
      echo "$output is not what its inputs give: run bash $LOCKS/lock.sh" >&2
      rm -f "$target"
      return 1
    fi
    rm -f "$target"
  fi
}

# Each lock resolves on its own (mostly waiting on the index): all at once, then every status.
jobs=()
# The package on the hosts, per extra (roles/attrition_app picks the file by the host's extras).
# The db host only loads data; the postgres role supports Ubuntu 20.04 (Python 3.8).
lock $LOCKS/app-base.txt 3.8 pyproject.toml $LOCKS/build.in & jobs+=($!)
for extra in train serve web; do
  lock "$LOCKS/app-$extra.txt" 3.10 pyproject.toml $LOCKS/build.in --extra "$extra" & jobs+=($!)
done
lock $LOCKS/mlflow-server.txt 3.10 $LOCKS/mlflow-server.in & jobs+=($!)
lock $LOCKS/gcs-emulator.txt 3.10 $LOCKS/gcs-emulator.in & jobs+=($!)
lock $LOCKS/installer.txt 3.8 $LOCKS/installer.in & jobs+=($!)
# The function: what Google Cloud's build installs too (runtime python3.12).
lock cloud_function/requirements.txt 3.10 cloud_function/requirements.in & jobs+=($!)
# The controller (ansible-core needs Python 3.11): `fleet.sh up` and `fleet.sh test`.
for extra in deploy dev; do
  lock "$LOCKS/controller-$extra.txt" 3.11 pyproject.toml $LOCKS/build.in --extra "$extra" &
  jobs+=($!)
done
status=0
for job in "${jobs[@]}"; do wait "$job" || status=1; done
exit $status
