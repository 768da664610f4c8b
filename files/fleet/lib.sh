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
# A venv carries a stamp per kind (of the pyproject files it was made from); dev covers deploy.
need_venv() {
  local kind=$1 stamp made
  stamp=$(cat "$REPO/pyproject.toml" "$REPO/tests/testkit/pyproject.toml" | sha256sum | cut -c1-16)
  for made in dev "$kind"; do
    if [[ -f "$VENV/.fleet-stamp-$made" && $(cat "$VENV/.fleet-stamp-$made") == "$stamp" ]]; then
      return
    fi
  done
  if [[ ! -x "$VENV/bin/pip" ]]; then
    python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
    log "creating the controller venv in $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
  fi
  log "installing the controller's $kind tools into $VENV"
  if [[ $kind == dev ]]; then
    "$VENV/bin/pip" install --quiet -e "$REPO[dev]" -e "$REPO/tests/testkit"
  else
    "$VENV/bin/pip" install --quiet -e "$REPO[deploy]"
  fi
  echo "$stamp" > "$VENV/.fleet-stamp-$kind"
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
