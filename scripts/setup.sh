#!/usr/bin/env bash
# Idempotent set-up of everything the demo and the test suite need on a
# fresh machine. Safe to run repeatedly; installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "==> setup: nothing beyond the Rust toolchain needed yet"
