# What every part of fleet.sh shares: logging, Debian packages, the controller's venv. Sourced
# first by fleet.sh (then engine.sh, image.sh, hosts.sh, tests.sh); REPO and HERE are set by it.
# shellcheck shell=bash

FLEET_NAME=${FLEET_NAME:-attrition}
VENV="$REPO/.venv"
log() { printf '[fleet %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- the controller's virtualenv (ansible, molecule, the app with its test tools) -------------
need_venv() {
  local stamp
  stamp=$(cat "$REPO/pyproject.toml" "$REPO/tests/testkit/pyproject.toml" | sha256sum | cut -c1-16)
  if [[ -f "$VENV/.fleet-stamp" && $(cat "$VENV/.fleet-stamp") == "$stamp" ]]; then return; fi
  python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
  log "creating the controller venv in $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --upgrade pip
  # The package with its test tools, and the tests' helpers (tests/testkit) as a package of its own.
  "$VENV/bin/pip" install --quiet -e "$REPO[dev]" -e "$REPO/tests/testkit"
  echo "$stamp" > "$VENV/.fleet-stamp"
}

apt_install() {
  [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null ||
    die "need the Debian/Ubuntu packages: $*; install them (as root: apt-get install $*) and re-run"
  log "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
