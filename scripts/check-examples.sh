#!/usr/bin/env bash
# Checks that every example's skaffold.yaml carries the sync rules and dev
# profile `filesync skaffold` generates for it (so the examples keep file
# sync working with current lifecycles). `--write` regenerates them instead.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=--check
if [ "${1:-}" = "--write" ]; then mode=--write; fi

shopt -s nullglob
examples=(examples/*/)
if [ ${#examples[@]} -eq 0 ]; then
  echo "check-examples: no examples/*/ yet"
  exit 0
fi
cargo build -q -p filesync
bin="${CARGO_TARGET_DIR:-target}/debug/filesync"
failed=0
for dir in "${examples[@]}"; do
  dir="${dir%/}"
  if [ ! -f "$dir/skaffold.yaml" ]; then
    echo "check-examples: $dir has no skaffold.yaml" >&2
    failed=1
    continue
  fi
  if ! "$bin" skaffold "$dir" --skaffold-file "$dir/skaffold.yaml" "$mode"; then
    failed=1
  fi
done
if [ "$failed" -ne 0 ]; then
  echo "check-examples: out of date; run scripts/check-examples.sh --write" >&2
  exit 1
fi
echo "check-examples: ${#examples[@]} example(s) up to date"
