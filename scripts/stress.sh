#!/usr/bin/env bash
# The process-level suites under CPU load: runs the runtime's supervisor,
# shim and fault/load suites (crates/runtime/tests/{runtime_supervisor,
# runtime_shims,fault_load}.rs) several times in a row while every core is
# kept busy by `sha256sum /dev/zero` processes this script starts (bounded
# by `timeout`) and stops by pid, then prints the tally of suite runs:
# `N passed, M failed`. Exits non-zero when any run failed.
# Needs root (the suites mount tmpfs, enter namespaces) and node.
#   STRESS_ROUNDS=N    rounds (default 5)
#   STRESS_BUSY=N      busy processes (default: one per core)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
rounds="${STRESS_ROUNDS:-5}"
busy="${STRESS_BUSY:-$(nproc)}"
suites=(runtime_supervisor runtime_shims fault_load)
logs="$(mktemp -d "${TMPDIR:-/tmp}/filesync-stress.XXXXXX")"

echo "==> building the suites (before the load starts)"
cargo test -p filesync-runtime "${suites[@]/#/--test=}" --no-run 2>&1 | tail -n 1

pids=()
stop_busy() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}
trap stop_busy EXIT
for _ in $(seq "$busy"); do
  # Bounded even if this script is killed without running its trap.
  timeout 3600 sha256sum /dev/zero >/dev/null 2>&1 &
  pids+=("$!")
done
echo "==> $busy busy processes (pids ${pids[*]}) on $(nproc) cores; logs in $logs"

passed=0
failed=0
failures=()
for round in $(seq "$rounds"); do
  for suite in "${suites[@]}"; do
    log="$logs/round$round-$suite.log"
    args=()
    # As scripts/fault-load.sh runs it: one test at a time.
    [ "$suite" = fault_load ] && args=(--test-threads=1)
    start=$(date +%s)
    if cargo test -p filesync-runtime --test "$suite" -- "${args[@]}" >"$log" 2>&1; then
      passed=$((passed + 1))
      verdict=ok
    else
      failed=$((failed + 1))
      verdict=FAILED
      failures+=("round $round $suite: $(grep -E '^    [a-z0-9_:]+$' "$log" | tr -d ' ' | paste -sd, - || true) ($log)")
    fi
    tests=$(grep -Eo '[0-9]+ passed; [0-9]+ failed' "$log" | tail -n 1 || true)
    echo "round $round $suite: $verdict (${tests:-no result}, $(($(date +%s) - start)) s)"
  done
done
stop_busy

for f in "${failures[@]}"; do
  echo "failed: $f"
done
echo "suite runs under load ($rounds rounds x ${#suites[@]} suites, $busy busy processes):"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
