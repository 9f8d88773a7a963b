#!/usr/bin/env bash
# Builds the run images the tests and the demo use, from Debian packages
# extracted with `dpkg-deb -x` (the way Paketo builds jammy *tiny*), into an
# OCI layout: .work/images/run (tags `base` and `tiny`). Cached: rebuilt only
# when this script changes.
#   base: libc, libstdc++, zlib, OpenSSL, CA certificates, tzdata, coreutils,
#         tar and a shell (dash) — like Paketo's *base*.
#   tiny: libc, libstdc++, zlib, OpenSSL, CA certificates, tzdata — no tar,
#         no rm, no shell — like Paketo's *tiny*.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$PWD/.work
OUT=$WORK/images/run
STAMP=$WORK/images/run.stamp
CNB_UID=${CNB_UID:-1000}
CNB_GID=${CNB_GID:-1000}
STACK_ID=io.skaffold-filesync.debian
stamp=$(sha256sum "$0" | cut -c1-16)
if [ -d "$OUT" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$stamp" ]; then
  echo "==> run images up to date ($OUT: base, tiny)"
  exit 0
fi

TINY_PKGS=(libc6 libgcc-s1 libstdc++6 zlib1g libssl3 openssl tzdata ca-certificates base-files netbase)
BASE_PKGS=("${TINY_PKGS[@]}" coreutils tar dash libacl1 libattr1 libselinux1 libpcre2-8-0 libgmp10 grep sed findutils)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "==> downloading Debian packages"
mkdir -p "$tmp/debs"
(cd "$tmp/debs" && apt-get download -qq "${BASE_PKGS[@]}" >/dev/null 2>&1 || {
  apt-get update -qq && apt-get download -qq "${BASE_PKGS[@]}"; })

make_rootfs() { # NAME PKG...
  local root=$tmp/$1; shift
  mkdir -p "$root"
  for p in "$@"; do
    dpkg-deb -x "$(ls "$tmp"/debs/"${p}"_*.deb | head -n1)" "$root"
  done
  # What maintainer scripts would have made.
  mkdir -p "$root"/{etc,tmp,home/cnb,workspace,layers,cnb,etc/ssl/certs}
  chmod 1777 "$root/tmp"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  cat > "$root/etc/passwd" <<PASSWD
root:x:0:0:root:/root:/sbin/nologin
cnb:x:$CNB_UID:$CNB_GID:cnb:/home/cnb:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
PASSWD
  cat > "$root/etc/group" <<GROUP
root:x:0:
cnb:x:$CNB_GID:
nogroup:x:65534:
GROUP
  chown "$CNB_UID:$CNB_GID" "$root/home/cnb" "$root/workspace" "$root/layers"
  rm -rf "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/info" "$root/usr/share/lintian"
}

echo "==> assembling rootfs: base, tiny"
make_rootfs base "${BASE_PKGS[@]}"
ln -sf dash "$tmp/base/bin/sh" 2>/dev/null || ln -sf dash "$tmp/base/usr/bin/sh"
make_rootfs tiny "${TINY_PKGS[@]}"
# tiny carries no tool that could stand in for tar, rm or a shell.
for t in tar rm sh dash bash; do
  if [ -e "$tmp/tiny/bin/$t" ] || [ -e "$tmp/tiny/usr/bin/$t" ]; then
    echo "tiny unexpectedly has $t" >&2; exit 1
  fi
done

rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")"
umoci init --layout "$OUT"
for name in base tiny; do
  echo "==> OCI image $OUT:$name"
  umoci new --image "$OUT:$name"
  umoci insert --image "$OUT:$name" "$tmp/$name" / >/dev/null
  umoci config --image "$OUT:$name" \
    --config.user "$CNB_UID:$CNB_GID" \
    --config.workingdir / \
    --config.env "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --config.env "CNB_USER_ID=$CNB_UID" --config.env "CNB_GROUP_ID=$CNB_GID" \
    --config.env "CNB_STACK_ID=$STACK_ID" \
    --config.label "io.buildpacks.stack.id=$STACK_ID" \
    --config.label "io.buildpacks.base.distro.name=debian" \
    --config.label "io.buildpacks.base.distro.version=12" \
    --config.label "io.skaffold-filesync.run-image=$name"
done
umoci gc --layout "$OUT"
echo "$stamp" > "$STAMP"
du -sh "$OUT"
