#!/usr/bin/env bash
# The main job: set-up of only what the demo uses (`scripts/setup.sh demo`:
# the Debian packages, the private Docker Engine's files, the lifecycle, the
# Skaffold and pack CLIs, the stack images, the released buildpack and the
# demo binary, side by side, each step timed), then the real `skaffold dev`
# (Skaffold v2.24.0 CLI, docker deployer) on examples/node, built with pack
# and the CNB lifecycle on a Paketo-shaped builder carrying
# skaffold-filesync. It saves edits (Skaffold's own `Syncing 1 files`, the
# app reloading in place), changes package.json (the rebuild and redeploy
# sync replaces), runs `skaffold dev --watch-poll-interval=100` and saves
# again, and prints the times side by side. Starts a private Docker Engine
# (scripts/docker.sh) and stops it at the end. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
scripts/setup.sh demo
setup_s=$(($(date +%s) - t0))
scripts/docker.sh start >/dev/null
trap 'scripts/docker.sh stop' EXIT
"${CARGO_TARGET_DIR:-target}/debug/demo" "$@"
echo "==> demo.sh: $(($(date +%s) - t0)) s in all (set-up ${setup_s} s)"
