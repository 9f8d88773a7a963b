#!/usr/bin/env bash
# Builds the stack images the tests and the demo use, from Debian packages
# extracted with `dpkg-deb -x` (the way Paketo builds jammy *tiny*), into
# OCI layouts. Cached: rebuilt only when this script changes.
#   base: libc, libstdc++, zlib, OpenSSL, CA certificates, tzdata, coreutils,
#         tar and a shell (dash) — like Paketo's *base*.
#   tiny: libc, libstdc++, zlib, OpenSSL, CA certificates, tzdata — no tar,
#         no rm, no shell — like Paketo's *tiny*.
#   build: base plus bash, gzip and the usual text tools, for the builder.
#
# .work/images/run (tags base, tiny): build and run user 1000:1000, for the
#   process-level harness that runs the lifecycle on the host.
# .work/images/stack (tags build, run-base, run-tiny): shaped like Paketo's
#   jammy stacks (github.com/paketo-buildpacks/jammy-base-stack and
#   jammy-tiny-stack, stack.toml): the build image's user is 1001:1000, the
#   run images' 1002:1000 (the gid is shared, the uids differ, so the run
#   user cannot write what the build user made), CNB_USER_ID/CNB_GROUP_ID/
#   CNB_STACK_ID set as Paketo sets them, and the io.buildpacks.stack.id and
#   io.buildpacks.base.distro.* labels. These are what pack and Skaffold use.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$PWD/.work
OUT=$WORK/images/run
STACK=$WORK/images/stack
STAMP=$WORK/images/run.stamp
STACK_ID=io.skaffold-filesync.debian
stamp=$(sha256sum "$0" | cut -c1-16)
if [ -d "$OUT" ] && [ -d "$STACK" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$stamp" ]; then
  echo "==> stack images up to date ($OUT: base, tiny; $STACK: build, run-base, run-tiny)"
  exit 0
fi

TINY_PKGS=(libc6 libgcc-s1 libstdc++6 zlib1g libssl3 openssl tzdata ca-certificates base-files netbase)
BASE_PKGS=("${TINY_PKGS[@]}" coreutils tar dash libacl1 libattr1 libselinux1 libpcre2-8-0 libgmp10 grep sed findutils)
BUILD_PKGS=("${BASE_PKGS[@]}" bash libtinfo6 gzip diffutils gawk libmpfr6 libsigsegv2 libreadline8 readline-common debianutils)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "==> downloading Debian packages"
mkdir -p "$tmp/debs"
(cd "$tmp/debs" && apt-get download -qq "${BUILD_PKGS[@]}" >/dev/null 2>&1 || {
  apt-get update -qq && apt-get download -qq "${BUILD_PKGS[@]}"; })

make_rootfs() { # NAME UID GID PKG...
  local root=$tmp/$1 CNB_UID=$2 CNB_GID=$3; shift 3
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

with_sh() { ln -sf dash "$1/bin/sh" 2>/dev/null || ln -sf dash "$1/usr/bin/sh"; }
echo "==> assembling rootfs: base, tiny (1000:1000); build (1001:1000), run-base, run-tiny (1002:1000)"
make_rootfs base 1000 1000 "${BASE_PKGS[@]}" && with_sh "$tmp/base"
make_rootfs tiny 1000 1000 "${TINY_PKGS[@]}"
make_rootfs build 1001 1000 "${BUILD_PKGS[@]}" && with_sh "$tmp/build"
make_rootfs run-base 1002 1000 "${BASE_PKGS[@]}" && with_sh "$tmp/run-base"
make_rootfs run-tiny 1002 1000 "${TINY_PKGS[@]}"
# tiny carries no tool that could stand in for tar, rm or a shell.
for root in tiny run-tiny; do
  for t in tar rm sh dash bash; do
    if [ -e "$tmp/$root/bin/$t" ] || [ -e "$tmp/$root/usr/bin/$t" ]; then
      echo "$root unexpectedly has $t" >&2; exit 1
    fi
  done
done

image() { # LAYOUT TAG ROOTFS UID GID
  local layout=$1 tag=$2 root=$3 uid=$4 gid=$5
  echo "==> OCI image $layout:$tag (user $uid:$gid)"
  umoci new --image "$layout:$tag"
  umoci insert --image "$layout:$tag" "$root" / >/dev/null
  umoci config --image "$layout:$tag" \
    --config.user "$uid:$gid" \
    --config.workingdir / \
    --config.env "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --config.env "CNB_USER_ID=$uid" --config.env "CNB_GROUP_ID=$gid" \
    --config.env "CNB_STACK_ID=$STACK_ID" \
    --config.label "io.buildpacks.stack.id=$STACK_ID" \
    --config.label "io.buildpacks.base.distro.name=debian" \
    --config.label "io.buildpacks.base.distro.version=12" \
    --config.label "io.skaffold-filesync.run-image=$tag"
}
rm -rf "$OUT" "$STACK"
mkdir -p "$(dirname "$OUT")"
umoci init --layout "$OUT"
image "$OUT" base "$tmp/base" 1000 1000
image "$OUT" tiny "$tmp/tiny" 1000 1000
umoci gc --layout "$OUT"
umoci init --layout "$STACK"
image "$STACK" build "$tmp/build" 1001 1000
image "$STACK" run-base "$tmp/run-base" 1002 1000
image "$STACK" run-tiny "$tmp/run-tiny" 1002 1000
umoci gc --layout "$STACK"
echo "$stamp" > "$STAMP"
du -sh "$OUT" "$STACK"
