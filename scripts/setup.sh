#!/usr/bin/env bash
# Idempotent set-up on a fresh machine (CI=true, no stdin is fine). Installs
# only what is missing (each step is stamp-based); everything it creates
# lives under .work/ (gitignored) or target/.
#
#   scripts/setup.sh        everything the test suite needs (scripts/test.sh)
#   scripts/setup.sh demo   only what scripts/demo.sh uses: the Debian
#                           packages, the private Docker Engine's files, the
#                           lifecycle, the Skaffold and pack CLIs, the stack
#                           images, the released buildpack and the demo
#                           binary — not Kubernetes, not the Skaffold probe
#
# Independent steps run side by side (the Go builds beside the apt, image
# and cargo steps: downloads overlap compiles on 2 cores); each prints when
# it starts and when it is done, with the time since set-up began. A step's
# output goes to .work/setup-logs/STEP.log, shown if the step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$ROOT/.work
BIN=$WORK/bin
LOGS=$WORK/setup-logs
PART=${1:-all}
case "$PART" in
  all | demo) ;;
  *)
    echo "setup: unknown part '$PART'; usage: scripts/setup.sh [demo]  (no argument: everything scripts/test.sh needs)" >&2
    exit 2
    ;;
esac
mkdir -p "$BIN" "$LOGS"
export PATH="/usr/local/go/bin:$PATH"
LIFECYCLE_VERSION=v0.21.17
# shellcheck source=scripts/lib/steps.sh
. scripts/lib/steps.sh

# Debian packages: runc (containers), umoci + skopeo (OCI images),
# docker-registry (a real registry on 127.0.0.1; it also provides the
# /etc/docker the private daemon binds over), jq, and the libraries Debian's
# dockerd links (scripts/docker.sh extracts docker.io itself with dpkg-deb,
# so no daemon is installed or started on the host). openssl only for the
# suite (the token test and the cluster's certificates).
APT_PACKAGES=(runc umoci skopeo docker-registry jq libdevmapper1.02.1 libsystemd0)
[ "$PART" = demo ] || APT_PACKAGES+=(openssl)
apt_packages() {
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  # The steps after this one `apt-get download` side by side: the package
  # lists must be there first (one `apt-get update`, never two at once).
  if ((${#missing[@]} == 0)) && apt-cache show docker.io >/dev/null 2>&1; then
    echo "present: ${APT_PACKAGES[*]}"
    return 0
  fi
  $sudo apt-get update -qq
  ((${#missing[@]})) || { echo "package lists updated; present: ${APT_PACKAGES[*]}"; return 0; }
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  echo "installed: ${missing[*]}"
}

# The CNB lifecycle, built from its Go module, pinned in tools/lifecycle
# (see tools/lifecycle/kaniko-unsupported/README.md for why not `go install`).
# Phases are selected by argv[0]: link them next to the binary.
lifecycle() {
  local stamp ldflags phase
  stamp="$LIFECYCLE_VERSION $(sha256sum tools/lifecycle/go.sum | cut -c1-16)"
  if [ -x "$BIN/lifecycle" ] && [ "$(cat "$WORK/lifecycle.stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "lifecycle $LIFECYCLE_VERSION present"
    return 0
  fi
  ldflags="-s -w -X github.com/buildpacks/lifecycle/cmd.Version=${LIFECYCLE_VERSION#v}"
  (cd tools/lifecycle &&
    CGO_ENABLED=0 go build -ldflags "$ldflags" -o "$BIN/lifecycle" github.com/buildpacks/lifecycle/cmd/lifecycle &&
    CGO_ENABLED=0 go build -ldflags "$ldflags" -o "$BIN/launcher" github.com/buildpacks/lifecycle/cmd/launcher)
  mkdir -p "$WORK/lifecycle"
  cp "$BIN/lifecycle" "$BIN/launcher" "$WORK/lifecycle/"
  for phase in detector analyzer restorer builder exporter creator rebaser; do
    ln -sf lifecycle "$WORK/lifecycle/$phase"
  done
  echo "$stamp" > "$WORK/lifecycle.stamp"
  echo "built lifecycle $LIFECYCLE_VERSION and its launcher from their Go module"
}

# The Go probe: Skaffold v2.24 as a library. Rebuilt when its sources change.
probe() {
  local stamp
  stamp=$(cat probe/go.mod probe/go.sum probe/*.go | sha256sum | cut -c1-16)
  if [ -x "$BIN/probe" ] && [ "$(cat "$WORK/probe.stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "Skaffold probe up to date"
    return 0
  fi
  (cd probe && go build -o "$BIN/probe" .)
  echo "$stamp" > "$WORK/probe.stamp"
  echo "built the Skaffold probe"
}

# The real clients: Skaffold v2.24.0 and pack v0.40.6 CLIs, pinned in
# tools/skaffold (its go.mod repeats Skaffold's replace directives, which
# is why `go install` cannot build either). Rebuilt when the pins change.
clients() {
  local stamp
  stamp=$(cat tools/skaffold/go.mod tools/skaffold/go.sum tools/skaffold/tools.go | sha256sum | cut -c1-16)
  if [ -x "$BIN/skaffold" ] && [ -x "$BIN/pack" ] && [ "$(cat "$WORK/clients.stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "Skaffold $("$BIN/skaffold" version) and pack $("$BIN/pack" --version) present"
    return 0
  fi
  (cd tools/skaffold &&
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/version.version=v2.24.0" \
      -o "$BIN/skaffold" github.com/GoogleContainerTools/skaffold/v2/cmd/skaffold &&
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/buildpacks/pack/pkg/client.Version=0.40.6" \
      -o "$BIN/pack" github.com/buildpacks/pack) ||
    { echo "building Skaffold and pack failed (see the go output above; the Go module proxy must be reachable)"; return 1; }
  "$BIN/skaffold" version >/dev/null && "$BIN/pack" --version >/dev/null
  echo "$stamp" > "$WORK/clients.stamp"
  echo "built Skaffold $("$BIN/skaffold" version) and pack $("$BIN/pack" --version)"
}

# The demo's own parts: the static image binaries of the buildpack (cargo,
# started early so they compile beside the Go builds), then the release
# the demo's builder includes (needs pack), and the demo binary.
buildpack_binaries() { scripts/package-buildpack.sh && echo "static buildpack and runtime binaries built"; }
release() { scripts/release.sh "$WORK/release" && echo "the release (.cnb, static binary, SHA256SUMS) in .work/release"; }
stack_images() { scripts/run-images.sh && echo "stack images in .work/images (run: base, tiny; stack: build, run-base, run-tiny)"; }
kubernetes() { scripts/cluster.sh build && echo "Kubernetes v1.33.13 and kubectl in .work/bin"; }
demo_binary() { cargo build -q -p filesync-e2e --bin demo && echo "built ${CARGO_TARGET_DIR:-target}/debug/demo"; }

step_start apt "Debian packages" apt_packages
step_start lifecycle "lifecycle $LIFECYCLE_VERSION (Go)" lifecycle
step_start clients "Skaffold v2.24.0 and pack v0.40.6 CLIs (Go; about 5 minutes the first time)" clients
if [ "$PART" = demo ]; then
  step_start buildpack "the buildpack's static binaries (cargo --release)" buildpack_binaries
  step_start demo-binary "the demo binary (cargo)" demo_binary
else
  step_start probe "the Skaffold probe (Go)" probe
  # Kubernetes v1.33.13 for scripts/cluster.sh (cached; ~6 minutes the first time).
  step_start kubernetes "Kubernetes v1.33.13 and kubectl (Go)" kubernetes
fi
# After apt: umoci, skopeo and runc are what these use.
step_wait apt
step_start stack-images "stack images from Debian packages (scripts/run-images.sh)" stack_images
step_start docker "the private Docker Engine's files (Debian's docker.io, extracted)" scripts/docker.sh extract
if [ "$PART" = demo ]; then
  step_wait clients buildpack
  step_start release "the released buildpack (scripts/release.sh .work/release)" release
fi
step_wait_all
step_done
