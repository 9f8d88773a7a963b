#!/usr/bin/env bash
# The whole test suite, from a fresh machine (what CI runs): installs what
# it needs (scripts/setup.sh), then format and lint checks, unit, property,
# snapshot, process-level and real-lifecycle/real-container integration
# tests, the examples' skaffold.yaml check, and a short bounded fuzz run.
# Needs root (runc containers, PID namespaces, unprivileged build user, the
# private Docker Engine of scripts/docker.sh).
#   FUZZ_SECONDS=N  seconds per fuzz target (default 60; 0 skips fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
start=$(date +%s)
# Each step says the time so far and the disk left: the suite's images,
# caches and cluster share the host's disk (a full one shows as Pods
# evicted for DiskPressure or failed builds, far from the cause).
stamp() { echo "==> [$(($(date +%s) - start))s, $(df -h --output=avail . | tail -1 | tr -d ' ') free] $*"; }

scripts/setup.sh
# What the suite must leave as it found it: the host's network links,
# iptables rules and ip_forward (checked at the end, after every daemon of
# ours has stopped).
host_net() { ip -o link | awk -F': ' '{print $2}' | sort; iptables-save 2>/dev/null | grep -v '^#' || true; cat /proc/sys/net/ipv4/ip_forward; }
host_before=$(host_net)
# The private Docker Engine for the real-`skaffold dev` suite, stopped (by
# its pid) however this script ends.
scripts/docker.sh start >/dev/null
trap 'scripts/cluster.sh stop; scripts/docker.sh stop' EXIT

stamp "cargo fmt --check"
cargo fmt --all -- --check
stamp "cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
# (includes crates/e2e/tests/release.rs: scripts/release.sh, its .cnb,
# binary and checksums, and a pack build with the published buildpack)
stamp "cargo test (unit, property, snapshot, runtime processes, lifecycle, e2e, release)"
# The held-sockets interposer, next to the runtime binary the runtime's
# tests run (crates/runtime/tests/held_sockets.rs), fresh.
cargo build -p filesync-listen-preload
cargo test --workspace -- --skip fault_load:: --skip dev_loop:: --skip skaffold_dev:: --skip skaffold_kubectl:: --skip cluster_ --skip inspect_daemon --skip skaffold_compile_error --skip filesync_builder::
stamp "cargo install --path crates/filesync on this checkout, no extra flags: a working filesync"
install_root=$(mktemp -d)
cargo install -q --path crates/filesync --root "$install_root"
"$install_root/bin/filesync" --version | grep -qx "filesync $(cargo metadata --no-deps --format-version 1 |
  jq -r '.packages[] | select(.name == "filesync") | .version')"
rm -rf "$install_root"
stamp "the Skaffold dev loop in real containers, every example (save-to-live medians printed)"
cargo test -p filesync-e2e --test e2e_dev_loop -- --nocapture
stamp "the real client: skaffold dev (docker deployer) on every example, generated and auto rules (save-to-live printed)"
cargo test -p filesync-e2e --test skaffold_dev -- --nocapture --test-threads=2
stamp "the real client: a save that does not compile (Go on tiny, Java): synced, the error shown, the old version serving, the fix served"
cargo test -p filesync-e2e --test skaffold_compile_error -- --nocapture --test-threads=1
stamp "filesync inspect NAME:TAG of the image skaffold dev built into the local daemon (unix socket and tcp://127.0.0.1)"
cargo test -p filesync-e2e --test inspect_daemon -- --nocapture --test-threads=1
stamp "the project's own Kubernetes cluster: a pod, kubectl exec tar, logs, port-forward; the host unchanged after stop"
cargo test -p filesync-e2e --test cluster_smoke -- --nocapture
stamp "the real client on Kubernetes: skaffold dev (kubectl deployer) on every example, and examples/basic"
cargo test -p filesync-e2e --test skaffold_kubectl -- --nocapture
stamp "filesync builder on a Paketo-shaped stock builder: derived, then the real skaffold dev (docker and kubectl deployers, --auto), its refusals"
cargo test -p filesync-e2e --test filesync_builder -- --nocapture --test-threads=1
stamp "fault and load suite (figures printed)"
scripts/fault-load.sh
stamp "examples' skaffold.yaml are current"
scripts/check-examples.sh
if [ "${FUZZ_SECONDS:-60}" != 0 ]; then
  stamp "fuzzing, ${FUZZ_SECONDS:-60}s per target"
  scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
fi
stamp "the host's links, iptables rules and ip_forward are as they were (every daemon of ours stopped)"
scripts/cluster.sh stop
scripts/docker.sh stop
if [ "$(host_net)" != "$host_before" ]; then
  echo "test.sh: the suite changed the host's network:" >&2
  diff <(echo "$host_before") <(host_net) >&2 || true
  exit 1
fi
stamp "all tests passed"
