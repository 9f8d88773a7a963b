#!/usr/bin/env bash
# Benchmarks filesync against watchexec (issue: save-to-live, burst, idle
# cost, size measured in a dev image's layer) and writes BENCHMARKS.md.
# Not part of the test suite. Needs root, as scripts/test.sh does.
#   scripts/bench.sh [--runs N] [--idle-seconds S]
set -euo pipefail
cd "$(dirname "$0")/.."
# The image-bytes figure builds a dev image with the real lifecycle.
scripts/setup.sh >/dev/null
export PATH="$PWD/.work/tools/bin:$PATH"
if ! command -v watchexec >/dev/null; then
  echo "==> installing watchexec from crates.io into .work/tools"
  cargo install watchexec-cli --locked --root "$PWD/.work/tools" -q
fi
echo "==> building the release runtime (as packaged: static, no registry client)"
CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static" \
  cargo build --release -q --target x86_64-unknown-linux-gnu -p filesync-runtime --bin filesync-runtime
cargo build --release -q -p filesync-bench
TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
"$TARGET_DIR/release/filesync-bench" --filesync "$TARGET_DIR/x86_64-unknown-linux-gnu/release/filesync-runtime" \
  --watchexec "$(command -v watchexec)" "$@"
