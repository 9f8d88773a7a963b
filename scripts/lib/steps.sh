# Steps run side by side, each timed (sourced by scripts/setup.sh).
#
#   step_start NAME "TITLE" COMMAND...   run COMMAND in the background
#   step_wait NAME...                    wait for those steps
#   step_wait_all                        wait for every step started
#   step_done                            print the total
#
# Each step's output goes to $LOGS/NAME.log; when it ends its last line is
# printed with its own duration and the time since set-up began. A failed
# step prints the end of its log and stops the others (each runs in its own
# process group, stopped by that group's id) before set-up exits 1.
set -m # a process group per background step

STEPS_T0=$(date +%s%N)
declare -A STEP_PID STEP_T0 STEP_TITLE
STEP_ORDER=()

# Milliseconds as "12.3s".
steps_secs() { printf '%d.%ds' $(($1 / 1000)) $(($1 % 1000 / 100)); }
steps_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
steps_say() { printf '==> setup [%6s] %s\n' "$(steps_secs "$(steps_since "$STEPS_T0")")" "$*"; }

step_start() {
  local name=$1 title=$2
  shift 2
  STEP_T0[$name]=$(date +%s%N)
  STEP_TITLE[$name]=$title
  STEP_ORDER+=("$name")
  steps_say "start: $title"
  "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
  STEP_PID[$name]=$!
}

steps_stop_others() {
  local name pid
  for name in "${STEP_ORDER[@]}"; do
    pid=${STEP_PID[$name]:-}
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && kill -TERM -- "-$pid" 2>/dev/null
  done
  return 0
}
trap steps_stop_others EXIT

# Reaps step NAME (exit status RC): prints its end, or fails set-up.
steps_reaped() {
  local name=$1 rc=$2
  STEP_PID[$name]=""
  if [ "$rc" != 0 ]; then
    echo "setup: error: the step '${STEP_TITLE[$name]}' failed (exit $rc); the end of $LOGS/$name.log:" >&2
    tail -n 25 "$LOGS/$name.log" | sed 's/^/    /' >&2
    echo "setup: fix what the log names and run the same command again (finished steps are skipped)" >&2
    exit 1
  fi
  steps_say "done in $(steps_secs "$(steps_since "${STEP_T0[$name]}")"): ${STEP_TITLE[$name]} — $(tail -n 1 "$LOGS/$name.log" | sed 's/^==> //')"
}

steps_name_of() {
  local name
  for name in "${STEP_ORDER[@]}"; do
    [ "${STEP_PID[$name]:-}" = "$1" ] && echo "$name" && return 0
  done
}

# Waits until every step named is done, reaping the others that end
# meanwhile (in the order they end, so a failure shows at once).
step_wait() {
  local want name pid rc pids
  while :; do
    want=0
    for name; do [ -n "${STEP_PID[$name]:-}" ] && want=1; done
    ((want)) || return 0
    pids=()
    for name in "${STEP_ORDER[@]}"; do [ -n "${STEP_PID[$name]:-}" ] && pids+=("${STEP_PID[$name]}"); done
    rc=0
    wait -n -p pid "${pids[@]}" || rc=$?
    steps_reaped "$(steps_name_of "$pid")" "$rc"
  done
}

step_wait_all() { step_wait "${STEP_ORDER[@]}"; }

step_done() { steps_say "set-up complete"; }
