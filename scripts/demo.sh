#!/usr/bin/env bash
# The main job: until the end-to-end demo lands, show the rule engine on a
# sample Node.js app.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo run --quiet -p filesync -- rules crates/rules/tests/fixtures/node-npm
