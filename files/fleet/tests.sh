# The README's test command (fleet.sh test). Sourced by fleet.sh, last.
# shellcheck shell=bash

# Each stage runs even when an earlier one failed, so one run shows every failure; the last line
# counts the stages ("N passed, N failed") and the exit status is non-zero if any failed. Every
# stage logs its time; docs/benchmarks.md keeps the budget per stage.
run_tests() {
  need_venv dev
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || apt_install postgresql
  # A real browser for the web page's tests.
  command -v chromium >/dev/null && command -v chromedriver >/dev/null ||
    apt_install chromium chromium-driver
  need_engine
  need_image
  local passed=0 failed=0 failures=() logs i
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
  # The molecule scenarios (containers and networks of their own) are a queue, longest first,
  # worked off by two background workers beside the lint and pytest stages; the foreground
  # joins as a third when those are done. More at once only thrashes two cores: every task is a
  # `docker exec`, and seven scenarios at once spent half the CPU in the kernel and dockerd.
  local jobs=(
    "molecule whole fleet|.|molecule test"
    "molecule Google Cloud shape|.|molecule test -s gcp"
    "molecule mlflow role|roles/mlflow|molecule test"
    "molecule monitoring role|roles/monitoring|molecule test"
    "molecule serving role|roles/serving|molecule test"
    "molecule training role|roles/training|molecule test"
    "molecule gateway role|roles/gateway|molecule test"
    "molecule postgres role|roles/postgres|molecule test"
    # Mostly waiting on PyPI and on OSV (files/requirements/): last, when the cores free up.
    "lock files|.|bash files/requirements/lock.sh --check"
    "lock upgrade procedure|.|pytest -m integration tests/integration/test_lock_files.py"
    "dependency audit|.|bash files/requirements/audit.sh"
  )
  echo 0 > "$logs/next"
  next_job() {  # print the index of the next job to run, nothing when the queue is empty
    local n
    exec 9>"$logs/lock"
    flock 9
    n=$(<"$logs/next")
    echo $((n + 1)) > "$logs/next"
    exec 9>&-
    if ((n < ${#jobs[@]})); then echo "$n"; fi
  }
  work() {  # run queued jobs until none is left; each keeps its output and "status seconds"
    local i name dir command started status
    while i=$(next_job) && [[ -n $i ]]; do
      IFS='|' read -r name dir command <<< "${jobs[$i]}"
      started=$SECONDS status=0
      # shellcheck disable=SC2086  # the command is words on purpose
      (cd "$REPO/$dir" && PATH="$VENV/bin:$PATH" $command) >"$logs/$i.log" 2>&1 || status=$?
      echo "$status $((SECONDS - started))" > "$logs/$i.status"
    done
  }
  local workers=()
  work & workers+=($!)
  work & workers+=($!)
  stage "ruff" ruff check .
  stage "ruff format" ruff format --check .
  stage "ansible-lint" ansible-lint --profile production
  stage "pytest unit" pytest -m unit
  # Two processes, a test module each at a time (module-scoped servers stay in one process).
  # The lock files' tests wait on PyPI, not on the cores: queued above instead.
  stage "pytest integration" pytest -m integration -n 2 --dist loadfile \
    --ignore tests/integration/test_lock_files.py
  log "the foreground joins the molecule queue"
  work
  wait "${workers[@]}"
  for i in "${!jobs[@]}"; do
    local name status took
    name=${jobs[$i]%%|*}
    read -r status took < "$logs/$i.status"
    log "stage: $name took $took s (queued; its output follows)"
    cat "$logs/$i.log"
    record "$name" "$status"
  done
  rm -rf "$logs"
  log "fleet.sh test took $SECONDS s in all (installs included)"
  [[ $failed -eq 0 ]] || log "failed stages: ${failures[*]}"
  echo "$passed passed, $failed failed"
  [[ $failed -eq 0 ]]
}
