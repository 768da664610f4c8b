# The hosts: containers booting systemd, each at its fixed address. Sourced by fleet.sh.
# shellcheck shell=bash

FLEET_SUBNET=${FLEET_SUBNET:-172.30.77.0/24}
# The hosts, in address order; a molecule scenario names its own (FLEET_HOSTS="pg-db pg-client").
read -ra FLEET_HOSTS <<< "${FLEET_HOSTS:-db training serving gateway monitoring}"
# One pip cache for every local host (and every fleet on this machine): a package is downloaded
# once, not once per host. pip still resolves each install against the index as a VM would.
FLEET_PIP_CACHE=${FLEET_PIP_CACHE:-/var/cache/attrition-fleet/pip}

container() { echo "$FLEET_NAME-$1"; }

# The one host-to-address map: the n-th host of FLEET_HOSTS gets .(10+n) of FLEET_SUBNET (db .10,
# training .11, serving .12, gateway .13, monitoring .14 by default), the same on every start, so pg_hba and
# the listen addresses stay valid.
address_of() {
  local i
  for i in "${!FLEET_HOSTS[@]}"; do
    if [[ ${FLEET_HOSTS[$i]} == "$1" ]]; then echo "${FLEET_SUBNET%.*}.$((10 + i))"; return; fi
  done
  die "no host $1 in this fleet (${FLEET_HOSTS[*]})"
}

create_hosts() {
  local net="$FLEET_NAME-net" tag
  tag="$IMAGE:$(image_hash)"
  docker network inspect "$net" >/dev/null 2>&1 ||
    docker network create --subnet "$FLEET_SUBNET" "$net" >/dev/null
  for host in "${FLEET_HOSTS[@]}"; do
    local name address
    name=$(container "$host") address=$(address_of "$host")
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
  local url ca="${FLEET_SECRETS_DIR:-$REPO/inventory/local/.secrets}/ca/ca.crt"
  url="https://$(address_of serving):8080/health"
  log "waiting until serving has loaded the production model ($url)"
  for _ in $(seq 60); do
    "$VENV/bin/python" - "$url" "$ca" <<'PY' && return 0
import json, ssl, sys, urllib.request
tls = ssl.create_default_context(cafile=sys.argv[2])
try:
    answer = urllib.request.urlopen(sys.argv[1], timeout=2, context=tls)
    print("serving:", json.load(answer)["model"])
except Exception:  # 503 until a model is loaded, or not listening yet
    sys.exit(1)
PY
    sleep 2
  done
  die "serving has no model after 2 minutes: docker exec $(container serving) journalctl -u attrition-serve"
}

show_access() {
  local secrets="$REPO/inventory/local/.secrets" db serving gateway
  db=$(address_of db) serving=$(address_of serving) gateway=$(address_of gateway)
  cat <<MSG

The fleet is up: $(for h in "${FLEET_HOSTS[@]}"; do printf '%s ' "$(container "$h")"; done)
Employee data, as the loader role:
  docker exec -it -e PGPASSWORD="\$(cat $secrets/postgres_loader_password)" $(container db) \\
    psql -h localhost -U attrition_loader attrition -c 'SELECT count(*) FROM training.employees'
Every front end is TLS with the fleet's CA: $secrets/ca/ca.crt
MLflow UI: https://$db:5000 (user admin, password in $secrets/mlflow_admin_password)
Training log: docker exec $(container training) journalctl -u attrition-train
Serving: curl -s --cacert $secrets/ca/ca.crt https://$serving:8080/health
Predictions: POST https://$gateway:8080/ with "Authorization: Bearer <your key>", made with
  docker exec $(container db) attrition-keys create ... (the README's example)
The web page: https://$gateway/ (sign in as analyst or hr-admin: $secrets/web_analyst_password,
  $secrets/web_hr_admin_password)
Monitoring (alerts, targets, the served version, jobs, backups): https://$(address_of monitoring):9090/consoles/attrition.html
MSG
}
