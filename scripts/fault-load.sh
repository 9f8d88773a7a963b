#!/usr/bin/env bash
# The fault and load suite (crates/runtime/tests/fault_load.rs): 1,000
# random syncs, SIGKILL of the app at random points, syncs during a
# rebuild, a full disk during extraction, a 50,000-file sync. Real
# processes, one test at a time, figures printed (lines starting FIGURES).
# Needs root (it mounts a small tmpfs) and node.
#   FAULT_SEED=N scripts/fault-load.sh   replays a run's random choices
#   FAULT_SYNCS=N scripts/fault-load.sh  a longer random-sync series (default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test -p filesync-runtime --test fault_load -- --nocapture --test-threads=1 2>&1 |
  grep -v '^\[filesync\] tar: ' # the shims' own per-sync lines, thousands of them
