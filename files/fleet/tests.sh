# The README's test command (fleet.sh test). Sourced by fleet.sh after lib.sh.
# shellcheck shell=bash

# Each stage runs even when an earlier one failed, so one run shows every failure; the last line
# counts the stages ("N passed, N failed") and the exit status is non-zero if any failed. Every
# stage logs its time; docs/benchmarks.md keeps the budget per stage.
run_tests() {
  need_venv
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || apt_install postgresql
  # A real browser for the web page's tests.
  command -v chromium >/dev/null && command -v chromedriver >/dev/null ||
    apt_install chromium chromium-driver
  need_engine
  need_image
  local passed=0 failed=0 failures=() names=() pids=() logs i
  logs=$(mktemp -d)
  record() {  # record NAME STATUS
    if [[ $2 -eq 0 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$1"); fi
  }
  stage() {  # stage NAME COMMAND...: in the foreground, from the repository
    local name=$1 status=0 started=$SECONDS; shift
    log "stage: $name"
    (cd "$REPO" && PATH="$VENV/bin:$PATH" "$@") || status=$?
    log "stage: $name took $((SECONDS - started)) s"
    record "$name" $status
  }
  background() {  # background NAME DIR COMMAND...: beside the foreground stages, output kept
    local name=$1 dir=$2; shift 2
    (
      started=$SECONDS status=0
      cd "$dir" && PATH="$VENV/bin:$PATH" "$@" || status=$?
      log "stage: $name took $((SECONDS - started)) s"
      exit $status
    ) >"$logs/${#names[@]}.log" 2>&1 &
    names+=("$name")
    pids+=($!)
  }
  # Every molecule scenario has containers and a network of its own: they all run in the
  # background from the start, beside each other and the lint and pytest stages (they spend
  # much of their time waiting on downloads, apt and services starting), longest first; their
  # output is shown in turn afterwards.
  background "molecule whole fleet" "$REPO" molecule test
  background "molecule Google Cloud shape" "$REPO" molecule test -s gcp
  local role
  for role in postgres mlflow training serving gateway; do
    background "molecule $role role" "$REPO/roles/$role" molecule test
  done
  stage "ruff" ruff check .
  stage "ruff format" ruff format --check .
  stage "ansible-lint" ansible-lint --profile production
  stage "pytest unit" pytest -m unit
  # Two processes, a test module each at a time (module-scoped servers stay in one process).
  stage "pytest integration" pytest -m integration -n 2 --dist loadfile
  for i in "${!names[@]}"; do
    local status=0
    wait "${pids[$i]}" || status=$?
    log "stage: ${names[$i]} (ran in the background; its output follows)"
    cat "$logs/$i.log"
    record "${names[$i]}" $status
  done
  rm -rf "$logs"
  log "fleet.sh test took $SECONDS s in all (installs included)"
  [[ $failed -eq 0 ]] || log "failed stages: ${failures[*]}"
  echo "$passed passed, $failed failed"
  [[ $failed -eq 0 ]]
}
