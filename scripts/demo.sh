#!/usr/bin/env bash
# The main job: set-up, then the real `skaffold dev` (Skaffold v2.24.0 CLI,
# docker deployer) on examples/node, built with pack and the CNB lifecycle
# on a Paketo-shaped builder carrying skaffold-filesync. It saves an edit
# (Skaffold's own `Syncing 1 files`, the app reloading in place), then
# changes package.json (the rebuild and redeploy sync replaces) and prints
# both times side by side. Starts a private Docker Engine (scripts/docker.sh)
# and stops it at the end. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "==> building the demo (first time: a few minutes)"
cargo build -q -p filesync-e2e --bin demo
scripts/docker.sh start >/dev/null
trap 'scripts/docker.sh stop' EXIT
"${CARGO_TARGET_DIR:-target}/debug/demo" "$@"
