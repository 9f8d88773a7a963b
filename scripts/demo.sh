#!/usr/bin/env bash
# The main job: set-up, then build the Node.js example with the real CNB
# lifecycle and skaffold-filesync, run it in a container (runc), change a
# file, sync it the way `skaffold dev` does, and show the reload and the
# measured save-to-live time. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "==> building the demo (first time: a few minutes)"
cargo build -q -p filesync-e2e --bin demo
exec "${CARGO_TARGET_DIR:-target}/x86_64-unknown-linux-gnu/debug/demo" "$@"
