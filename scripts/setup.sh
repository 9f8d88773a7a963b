#!/usr/bin/env bash
# Idempotent set-up of everything the demo and the test suite need on a
# fresh machine (CI=true, no stdin is fine). Installs only what is missing;
# everything it creates lives under .work/ (gitignored) or target/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$ROOT/.work
BIN=$WORK/bin
mkdir -p "$BIN"
export PATH="/usr/local/go/bin:$PATH"
LIFECYCLE_VERSION=v0.21.17

step() { printf '==> setup: %s\n' "$*"; }

# Debian packages: runc (containers), umoci + skopeo (OCI images),
# docker-registry (a real registry on 127.0.0.1), jq, and the libraries
# Debian's dockerd links (scripts/docker.sh extracts docker.io itself with
# dpkg-deb, so no daemon is installed or started on the host).
APT_PACKAGES=(runc umoci skopeo docker-registry jq openssl libdevmapper1.02.1 libsystemd0)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  step "apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  step "Debian packages present (${APT_PACKAGES[*]})"
fi

# The CNB lifecycle, built from its Go module, pinned in tools/lifecycle
# (see tools/lifecycle/kaniko-unsupported/README.md for why not `go install`).
# Phases are selected by argv[0]: link them next to the binary.
lifecycle_stamp="$LIFECYCLE_VERSION $(sha256sum tools/lifecycle/go.sum | cut -c1-16)"
if [ ! -x "$BIN/lifecycle" ] || [ "$(cat "$WORK/lifecycle.stamp" 2>/dev/null)" != "$lifecycle_stamp" ]; then
  step "building lifecycle $LIFECYCLE_VERSION and launcher from their Go module"
  ldflags="-s -w -X github.com/buildpacks/lifecycle/cmd.Version=${LIFECYCLE_VERSION#v}"
  (cd tools/lifecycle &&
    CGO_ENABLED=0 go build -ldflags "$ldflags" -o "$BIN/lifecycle" github.com/buildpacks/lifecycle/cmd/lifecycle &&
    CGO_ENABLED=0 go build -ldflags "$ldflags" -o "$BIN/launcher" github.com/buildpacks/lifecycle/cmd/launcher)
  mkdir -p "$WORK/lifecycle"
  cp "$BIN/lifecycle" "$BIN/launcher" "$WORK/lifecycle/"
  for phase in detector analyzer restorer builder exporter creator rebaser; do
    ln -sf lifecycle "$WORK/lifecycle/$phase"
  done
  echo "$lifecycle_stamp" > "$WORK/lifecycle.stamp"
else
  step "lifecycle $LIFECYCLE_VERSION present"
fi

# The Go probe: Skaffold v2.24 as a library. Rebuilt when its sources change.
probe_stamp=$(cat probe/go.mod probe/go.sum probe/*.go | sha256sum | cut -c1-16)
if [ ! -x "$BIN/probe" ] || [ "$(cat "$WORK/probe.stamp" 2>/dev/null)" != "$probe_stamp" ]; then
  step "building the Skaffold probe (first build downloads Skaffold's modules; a few minutes)"
  (cd probe && go build -o "$BIN/probe" .)
  echo "$probe_stamp" > "$WORK/probe.stamp"
else
  step "Skaffold probe up to date"
fi

# The real clients: Skaffold v2.24.0 and pack v0.40.6 CLIs, pinned in
# tools/skaffold (its go.mod repeats Skaffold's replace directives, which
# is why `go install` cannot build either). Rebuilt when the pins change.
clients_stamp=$(cat tools/skaffold/go.mod tools/skaffold/go.sum tools/skaffold/tools.go | sha256sum | cut -c1-16)
if [ ! -x "$BIN/skaffold" ] || [ ! -x "$BIN/pack" ] || [ "$(cat "$WORK/clients.stamp" 2>/dev/null)" != "$clients_stamp" ]; then
  step "building the Skaffold v2.24.0 and pack v0.40.6 CLIs from their Go modules (about 5 minutes the first time)"
  (cd tools/skaffold &&
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/version.version=v2.24.0" \
      -o "$BIN/skaffold" github.com/GoogleContainerTools/skaffold/v2/cmd/skaffold &&
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/buildpacks/pack/pkg/client.Version=0.40.6" \
      -o "$BIN/pack" github.com/buildpacks/pack) ||
    { echo "setup: error: building Skaffold and pack failed (see the go output above; the Go module proxy must be reachable)" >&2; exit 1; }
  "$BIN/skaffold" version >/dev/null && "$BIN/pack" --version >/dev/null
  echo "$clients_stamp" > "$WORK/clients.stamp"
else
  step "Skaffold $("$BIN/skaffold" version) and pack $("$BIN/pack" --version) present"
fi

# Kubernetes v1.33.13 (kube-apiserver, kubelet, … and kubectl) from
# tools/kubernetes, for scripts/cluster.sh (cached; ~6 minutes the first time).
scripts/cluster.sh build

# Stack images (process-level harness and Paketo-shaped build/run images).
scripts/run-images.sh
