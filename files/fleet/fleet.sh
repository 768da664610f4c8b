#!/usr/bin/env bash
# The local fleet: systemd "VMs" as Docker containers that inventory/local addresses.
#   fleet.sh up      install what is missing, build the image, start the hosts, run site.yml,
#                    then train a first model (the main job)
#   fleet.sh create  the same without site.yml (molecule's create step)
#   fleet.sh down    remove the hosts and their network (the image stays cached)
#   fleet.sh test    lint, unit/integration tests and molecule scenarios (the README's test command)
# FLEET_NAME (default attrition) and FLEET_SUBNET let a second fleet (the tests') run beside yours;
# FLEET_HOSTS names other hosts (a role's molecule scenario).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$REPO/files/fleet"
# shellcheck source=files/fleet/lib.sh
source "$HERE/lib.sh"
# shellcheck source=files/fleet/engine.sh
source "$HERE/engine.sh"
# shellcheck source=files/fleet/image.sh
source "$HERE/image.sh"
# shellcheck source=files/fleet/hosts.sh
source "$HERE/hosts.sh"
# shellcheck source=files/fleet/tests.sh
source "$HERE/tests.sh"

# The controller's venv (downloads) is made while the engine starts and the image is built
# (debootstrap): the two took 100-190 s each one after the other. Debian packages first, in one
# apt run, since apt allows one at a time.
up() {
  local venv_job
  need_packages
  need_venv deploy & venv_job=$!
  need_engine
  need_image
  wait "$venv_job" || die "the controller venv could not be made (see above)"
  create_hosts; converge; train_now; wait_serving; show_access
}

main() {
  case "${1:-}" in
    up)      up ;;
    create)  need_engine; need_image; create_hosts ;;
    down)    need_engine; remove_hosts ;;
    image)   need_engine; need_image ;;
    venv)    need_venv dev ;;
    test)    run_tests ;;
    *) echo "usage: $0 up|create|down|image|venv|test" >&2; exit 2 ;;
  esac
}

main "$@"
