# What every part of fleet.sh shares: logging, Debian packages, the controller's venv. Sourced
# first by fleet.sh (then engine.sh, image.sh, hosts.sh, tests.sh); REPO and HERE are set by it.
# shellcheck shell=bash

FLEET_NAME=${FLEET_NAME:-attrition}
VENV="$REPO/.venv"
log() { printf '[fleet %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- the controller's virtualenv --------------------------------------------------------------
# `need_venv deploy` (fleet.sh up): the package with Ansible only. `need_venv dev` (fleet.sh
# test): with its test tools and the tests' helpers (tests/testkit) as a package of their own.
# Each installs its lock file (files/requirements/controller-KIND.txt, hash-checked), then our
# packages without dependencies. pip installs uv first, from the lock's own pin and hashes; uv
# then installs the rest (pip took 4 minutes for the dev lock, checking hashes). The venv is
# made afresh whenever its lock or our pyproject files change, so it holds what a fresh install
# gives; it carries a stamp of the kind and of those files, and a dev venv covers deploy.
venv_stamp() {
  cat "$REPO/files/requirements/controller-$1.txt" "$REPO/pyproject.toml" \
    "$REPO/tests/testkit/pyproject.toml" | sha256sum | cut -c1-16
}
need_venv() {
  local kind=$1 made packages=(-e "$REPO") lock="$REPO/files/requirements/controller-$1.txt"
  for made in dev "$kind"; do
    if [[ -f "$VENV/.fleet-stamp" && $(<"$VENV/.fleet-stamp") == "$made $(venv_stamp "$made")" ]]
    then
      return
    fi
  done
  python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
  log "making the controller venv in $VENV: $kind tools (files/requirements/controller-$kind.txt)"
  python3 -m venv --clear "$VENV"
  # uv's entry of the lock: its pin line and the hash lines after it.
  "$VENV/bin/pip" install --quiet --no-deps --require-hashes --requirement \
    <(sed -n '/^uv==/,/^[^ ]/{/^uv==/p;/^ /p}' "$lock")
  # uv trusts the system store too (any company proxy CA), as pip does (PIP_CERT).
  export UV_NATIVE_TLS=1
  "$VENV/bin/uv" pip sync --quiet --python "$VENV/bin/python" --require-hashes "$lock"
  if [[ $kind == dev ]]; then packages+=(-e "$REPO/tests/testkit"); fi
  "$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" --no-deps \
    --no-build-isolation "${packages[@]}"
  "$VENV/bin/uv" pip check --quiet --python "$VENV/bin/python"
  echo "$kind $(venv_stamp "$kind")" > "$VENV/.fleet-stamp"
}

# What `up` needs from Debian/Ubuntu and is missing, in one apt run.
need_packages() {
  local missing=()
  python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  if ((${#missing[@]})); then apt_install "${missing[@]}"; fi
}

apt_install() {
  [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null ||
    die "need the Debian/Ubuntu packages: $*; install them (as root: apt-get install $*) and re-run"
  log "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
