#!/usr/bin/env bash
# Sourced by scripts/cluster.sh (its variables and helpers): building Kubernetes and the
# pause image, and extracting the Debian packages the cluster runs.

build_stamp() {
  (cd tools/kubernetes && find . -type f -print0 | sort -z | xargs -0 sha256sum; echo "$K8S_VERSION") |
    sha256sum | cut -c1-16
}

build() {
  local stamp
  stamp=$(build_stamp)
  local b have=1
  for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl; do
    [ -x "$BIN/$b" ] || have=0
  done
  [ -x "$D/pause/pause" ] || have=0
  if [ $have = 1 ] && [ "$(cat "$D/build.stamp" 2>/dev/null)" = "$stamp" ]; then
    return 0
  fi
  [ -x "$GO" ] || die "Go is missing ($GO): Kubernetes $K8S_VERSION builds from tools/kubernetes with it"
  say "building Kubernetes $K8S_VERSION (kube-apiserver, kubelet, kube-controller-manager, kube-scheduler, kubectl) from tools/kubernetes; ~5 min cold"
  mkdir -p "$BIN" "$D/pause"
  # Both version packages: component-base's is what the servers and
  # `kubectl version` report, client-go's what clients send as user agent.
  local ld="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=33 -X $pkg.gitTreeState=clean"
  done
  (cd tools/kubernetes &&
    CGO_ENABLED=0 "$GO" build -trimpath -buildvcs=false -ldflags "$ld" -o "$BIN/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubelet \
      k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
      k8s.io/kubernetes/cmd/kubectl &&
    CGO_ENABLED=0 "$GO" build -trimpath -buildvcs=false -ldflags "-s -w" -o "$D/pause/pause" ./pause) ||
    die "building Kubernetes $K8S_VERSION failed (go build in tools/kubernetes)"
  pack_pause
  echo "$stamp" > "$D/build.stamp"
}

# The pause image as an OCI archive: one uncompressed layer holding /pause.
pack_pause() {
  local t=$D/pause/oci
  rm -rf "$t" && mkdir -p "$t/blobs/sha256" "$D/pause/rootfs"
  cp "$D/pause/pause" "$D/pause/rootfs/pause"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$D/pause/rootfs" -cf "$D/pause/layer.tar" pause
  local ld ls cd cs md ms
  ld=$(sha256sum "$D/pause/layer.tar" | cut -d' ' -f1); ls=$(stat -c %s "$D/pause/layer.tar")
  mv "$D/pause/layer.tar" "$t/blobs/sha256/$ld"
  printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/pause"],"User":"65535:65535"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$ld" > "$D/pause/config.json"
  cd=$(sha256sum "$D/pause/config.json" | cut -d' ' -f1); cs=$(stat -c %s "$D/pause/config.json")
  mv "$D/pause/config.json" "$t/blobs/sha256/$cd"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$cd" "$cs" "$ld" "$ls" > "$D/pause/manifest.json"
  md=$(sha256sum "$D/pause/manifest.json" | cut -d' ' -f1); ms=$(stat -c %s "$D/pause/manifest.json")
  mv "$D/pause/manifest.json" "$t/blobs/sha256/$md"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$md" "$ms" "$PAUSE_IMAGE" "${PAUSE_IMAGE##*:}" > "$t/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$t/oci-layout"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$t" -cf "$D/pause/pause-oci.tar" .
  rm -rf "$t" "$D/pause/rootfs"
}


extract() {
  local stamp=$D/root.stamp want
  want="${DEBS[*]}"
  [ -x "$ROOT/usr/bin/containerd" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return 0
  say "extracting Debian's ${DEBS[*]} into $ROOT"
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && { apt-get download -qq "${DEBS[@]}" 2>/dev/null ||
    { apt-get update -qq && apt-get download -qq "${DEBS[@]}"; }; }) ||
    { rm -rf "$tmp"; die "cannot download ${DEBS[*]} with apt-get download (is apt reachable?)"; }
  rm -rf "$ROOT" && mkdir -p "$ROOT"
  local deb
  for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$ROOT"; done
  rm -rf "$tmp"
  echo "$want" > "$stamp"
}

host_tools() {
  local t missing=()
  for t in openssl curl mount unshare nsenter ip; do command -v "$t" >/dev/null || missing+=("$t"); done
  ((${#missing[@]} == 0)) && return 0
  die "missing host tools: ${missing[*]} (Debian: openssl curl util-linux iproute2)"
}
