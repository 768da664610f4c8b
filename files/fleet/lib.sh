# Functions behind fleet.sh. Sourced, never run; REPO and HERE are set by the caller.
# shellcheck shell=bash

FLEET_NAME=${FLEET_NAME:-attrition}
FLEET_SUBNET=${FLEET_SUBNET:-172.30.77.0/24}
# The hosts, in address order; a molecule scenario names its own (FLEET_HOSTS="pg-db pg-client").
read -ra FLEET_HOSTS <<< "${FLEET_HOSTS:-db training serving gateway}"
FLEET_PREFIX=${FLEET_SUBNET%.*}  # hosts get fixed addresses .10 .. .13: pg_hba and listen addresses stay valid
IMAGE=attrition-fleet-base
# One pip cache for every local host (and every fleet on this machine): a package is downloaded
# once, not once per host. pip still resolves each install against the index as a VM would.
FLEET_PIP_CACHE=${FLEET_PIP_CACHE:-/var/cache/attrition-fleet/pip}
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

# --- a running Docker engine ----------------------------------------------------------------
need_engine() {
  docker info >/dev/null 2>&1 && return
  command -v dockerd >/dev/null || apt_install docker.io
  command -v docker >/dev/null || die "no docker client after installing docker.io"
  if [[ -d /run/systemd/system ]] && systemctl start docker 2>/dev/null; then
    :
  elif [[ $EUID -eq 0 ]]; then
    # No systemd on this host (a CI container): run the engine in the background ourselves.
    log "starting dockerd (log: /var/log/dockerd-fleet.log)"
    setsid nohup dockerd >/var/log/dockerd-fleet.log 2>&1 < /dev/null &
  else
    die "Docker is installed but its engine is not running: start it (sudo systemctl start docker)"
  fi
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && return; sleep 0.5; done
  die "the Docker engine did not answer within 30 s (see /var/log/dockerd-fleet.log)"
}

# --- the Debian 12 systemd image, built once and cached by the hash of what makes it --------
image_hash() {
  cat "$HERE/Dockerfile" "$HERE/build-rootfs.sh" /usr/local/share/ca-certificates/*.crt 2>/dev/null |
    sha256sum | cut -c1-12
}

need_image() {
  local tag
  tag="$IMAGE:$(image_hash)"
  if docker image inspect "$tag" >/dev/null 2>&1; then return; fi
  command -v debootstrap >/dev/null || apt_install debootstrap
  local work
  work=$(mktemp -d /var/tmp/fleet-image.XXXXXX)
  log "building $tag (debootstrap, about a minute)"
  bash "$HERE/build-rootfs.sh" "$work/rootfs"
  tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
  cp "$HERE/Dockerfile" "$work/"
  docker build --quiet -t "$tag" -t "$IMAGE:latest" "$work" >/dev/null
  rm -rf "$work"
}

# --- the hosts ---------------------------------------------------------------------------------
container() { echo "$FLEET_NAME-$1"; }

create_hosts() {
  local net="$FLEET_NAME-net" tag
  tag="$IMAGE:$(image_hash)"
  docker network inspect "$net" >/dev/null 2>&1 ||
    docker network create --subnet "$FLEET_SUBNET" "$net" >/dev/null
  local number=10
  for host in "${FLEET_HOSTS[@]}"; do
    local name address="$FLEET_PREFIX.$((number++))"
    name=$(container "$host")
    if docker container inspect "$name" >/dev/null 2>&1; then
      docker start "$name" >/dev/null
      continue
    fi
    log "creating host $host ($name)"
    # Every capability but SYS_RESOURCE instead of --privileged: the CI host's bounding set lacks
    # it and runc refuses --privileged there. systemd needs the host's cgroup tree and a tmpfs /run.
    docker run -d --name "$name" --hostname "$host" \
      --network "$net" --network-alias "$host" --ip "$address" \
      --cap-add ALL --cap-drop SYS_RESOURCE \
      --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
      --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
      --tmpfs /run --tmpfs /run/lock --tmpfs /tmp:exec \
      -v "$FLEET_PIP_CACHE:/root/.cache/pip" \
      --label "attrition-fleet=$FLEET_NAME" "$tag" >/dev/null
  done
  for host in "${FLEET_HOSTS[@]}"; do wait_for_systemd "$(container "$host")"; done
}

wait_for_systemd() {
  local state
  for _ in $(seq 120); do
    # Right after start the system bus may not be up yet ("Failed to connect to bus"): retry.
    state=$(docker exec "$1" systemctl is-system-running 2>/dev/null || true)
    case "$state" in running|degraded) return ;; esac
    sleep 0.5
  done
  die "systemd in $1 did not come up (state: ${state:-none})"
}

remove_hosts() {
  local ids
  ids=$(docker ps -aq --filter "label=attrition-fleet=$FLEET_NAME")
  [[ -z "$ids" ]] || docker rm -f $ids >/dev/null
  docker network rm "$FLEET_NAME-net" >/dev/null 2>&1 || true
  log "fleet $FLEET_NAME removed"
}

# --- converge and tell the user how to reach it ------------------------------------------------
converge() {
  log "running ansible-playbook site.yml"
  (cd "$REPO" && FLEET_NAME=$FLEET_NAME FLEET_SUBNET=$FLEET_SUBNET "$VENV/bin/ansible-playbook" site.yml)
}

# The main job: one training run now, as the timer would start it (journal on the host).
train_now() {
  log "training a model (systemctl start attrition-train on $(container training))"
  docker exec "$(container training)" systemctl start attrition-train.service ||
    die "training failed: docker exec $(container training) journalctl -u attrition-train"
}

wait_serving() {
  local url="http://$FLEET_PREFIX.12:8080/health"
  log "waiting until serving has loaded the production model ($url)"
  for _ in $(seq 60); do
    "$VENV/bin/python" - "$url" <<'PY' && return 0
import json, sys, urllib.request
try:
    print("serving:", json.load(urllib.request.urlopen(sys.argv[1], timeout=2))["model"])
except Exception:  # 503 until a model is loaded, or not listening yet
    sys.exit(1)
PY
    sleep 2
  done
  die "serving has no model after 2 minutes: docker exec $(container serving) journalctl -u attrition-serve"
}

show_access() {
  local secrets="$REPO/inventory/local/.secrets" db_ip="$FLEET_PREFIX.10"
  cat <<MSG

The fleet is up: $(for h in "${FLEET_HOSTS[@]}"; do printf '%s ' "$(container "$h")"; done)
Employee data, as the loader role:
  docker exec -it -e PGPASSWORD="\$(cat $secrets/postgres_loader_password)" $(container db) \\
    psql -h localhost -U attrition_loader attrition -c 'SELECT count(*) FROM training.employees'
MLflow UI: http://$db_ip:5000 (user admin, password in $secrets/mlflow_admin_password)
Training log: docker exec $(container training) journalctl -u attrition-train
Serving: curl -s http://$FLEET_PREFIX.12:8080/health
Predictions: POST http://$FLEET_PREFIX.13:8080/ with "Authorization: Bearer <$secrets/gateway_token>"
  (the README's curl example); the web page: http://$FLEET_PREFIX.13:8000/
MSG
}
