# A running Docker engine (installed and started when missing). Sourced by fleet.sh.
# shellcheck shell=bash

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

