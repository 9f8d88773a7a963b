#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60) with cargo-fuzz on
# the nightly toolchain. Installs cargo-fuzz into .work/tools if missing.
# Corpora grow under fuzz/corpus/<target>/; crashes land in fuzz/artifacts/.
# An input that takes over 10 s is a finding too (-timeout): libFuzzer's
# default of 20 minutes per input would overrun the CI budget silently.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
shift || true
export PATH="$PWD/.work/tools/bin:$PATH"
if ! command -v cargo-fuzz >/dev/null; then
  echo "==> installing cargo-fuzz into .work/tools"
  cargo install cargo-fuzz --locked --root "$PWD/.work/tools" -q
fi
targets=("$@")
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(cd fuzz && cargo +nightly fuzz list)
fi
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t"
  echo "==> fuzz $t for ${SECONDS_EACH}s"
  (cd fuzz && cargo +nightly fuzz run "$t" "corpus/$t" -- \
    -max_total_time="$SECONDS_EACH" -max_len=4096 -timeout=10 -print_final_stats=1 2>&1 |
    grep -E "^(#|Done|stat::number_of_executed_units|==|SUMMARY|thread)" | tail -n 4)
done
echo "==> fuzzing done: ${#targets[@]} targets, ${SECONDS_EACH}s each, no crash"
