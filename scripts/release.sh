#!/usr/bin/env bash
# Makes a release of skaffold-filesync into OUTDIR:
#   OUTDIR/skaffold-filesync-VERSION.cnb     the buildpack, packaged by the real
#                                            `pack buildpack package --format file`
#                                            (an OCI image layout archive; pack
#                                            takes it as `--buildpack FILE` and
#                                            as a builder.toml `uri`)
#   OUTDIR/filesync-VERSION-x86_64-linux     the static in-image runtime binary (the
#                                            one in the buildpack, filesync-runtime;
#                                            the CLI installs with cargo install)
#   OUTDIR/SHA256SUMS                        sha256sum format, for `sha256sum -c`
#   OUTDIR/buildpack/skaffold-filesync/      the directory that was packaged (not
#                                            a release asset)
# With --publish REGISTRY/REPO the buildpack image is also pushed as
# REGISTRY/REPO:VERSION (`pack buildpack package --publish`), usable as is
# with `pack build --buildpack`, in a builder.toml `uri` or in
# skaffold.yaml's `buildpacks.buildpacks`. (pack's `docker://` prefix works
# only for registries without a port: pack v0.40.6 parses the prefixed
# string whole as an image reference, pkg/buildpack/locator_type.go.)
#
#   scripts/release.sh OUTDIR [--publish REGISTRY/REPO]
#
# VERSION is the workspace's (Cargo.toml [workspace.package] version); the
# buildpack.toml version must match it. pack is the one scripts/setup.sh
# builds (v0.40.6, in .work/bin). Neither packaging to a file nor publishing
# needs a Docker daemon: pack writes the layout itself and pushes straight
# to the registry.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

usage() {
  echo "usage: scripts/release.sh OUTDIR [--publish REGISTRY/REPO]" >&2
  exit 2
}
die() {
  echo "release: $*" >&2
  exit 1
}

OUT=""
PUBLISH=""
while [ $# -gt 0 ]; do
  case "$1" in
    --publish)
      [ $# -ge 2 ] || usage
      PUBLISH=$2
      shift 2
      ;;
    --publish=*)
      PUBLISH=${1#--publish=}
      shift
      ;;
    -h | --help) usage ;;
    -*) echo "release: unknown option $1" >&2; usage ;;
    *)
      [ -z "$OUT" ] || usage
      OUT=$1
      shift
      ;;
  esac
done
[ -n "$OUT" ] || usage
if [ -n "$PUBLISH" ]; then
  case "$PUBLISH" in
    */*) ;;
    *) die "--publish takes REGISTRY/REPO (e.g. 127.0.0.1:5000/skaffold-filesync), got '$PUBLISH'" ;;
  esac
  case "${PUBLISH##*/}" in
    *:* | *@*) die "--publish takes a repository without tag or digest (the tag is the version), got '$PUBLISH'" ;;
  esac
fi

# pack as the test harness finds it (crates/e2e/src/tools.rs `tool`):
# .work/lifecycle, .work/bin, then the system's.
PACK=""
for p in "$ROOT/.work/lifecycle/pack" "$ROOT/.work/bin/pack" /usr/bin/pack /usr/sbin/pack \
  /usr/local/bin/pack /bin/pack /sbin/pack; do
  if [ -x "$p" ]; then
    PACK=$p
    break
  fi
done
[ -n "$PACK" ] || die "pack not found (.work/bin/pack): run scripts/setup.sh first (it builds pack v0.40.6 from its Go module)"
command -v jq >/dev/null || die "jq not found: run scripts/setup.sh first (it installs jq)"

echo "==> version (cargo metadata)"
VERSION=$(cargo metadata --no-deps --format-version 1 |
  jq -r '.packages[] | select(.name == "filesync") | .version') ||
  die "cargo metadata failed (see above): is this the skaffold-filesync workspace?"
[ -n "$VERSION" ] && [ "$VERSION" != null ] || die "cargo metadata gave no version for the filesync package"
BP_VERSION=$(sed -n 's/^version *= *"\(.*\)"/\1/p' crates/buildpack/buildpack.toml | head -n1)
if [ "$BP_VERSION" != "$VERSION" ]; then
  die "crates/buildpack/buildpack.toml has version '$BP_VERSION' but the workspace is $VERSION; set [buildpack] version = \"$VERSION\""
fi
echo "    $VERSION"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
scripts/package-buildpack.sh "$OUT/buildpack"
BPDIR=$OUT/buildpack/skaffold-filesync

CNB=skaffold-filesync-$VERSION.cnb
BIN=filesync-$VERSION-x86_64-linux
# pack's own state (config, cache) in a throwaway home: the release does
# not depend on, or change, the user's pack configuration.
PACK_HOME=$(mktemp -d)
STAGE=$(mktemp -d "$OUT/.stage.XXXXXX")
trap 'rm -rf "$PACK_HOME" "$STAGE"' EXIT
export PACK_HOME

# The buildpack.toml declares its one target (linux/amd64); --target says
# it again so the package's image config carries os and architecture even
# if that declaration goes.
echo "==> pack buildpack package $CNB --format file --target linux/amd64"
"$PACK" buildpack package "$STAGE/$CNB" --path "$BPDIR" --format file \
  --target linux/amd64 --no-color ||
  die "pack buildpack package failed (see pack's output above)"
# What pack writes is an OCI image layout archive; fail here rather than
# ship a file pack would not read back.
# (pack names the members /oci-layout, /index.json, /blobs/…)
members=$(tar -tf "$STAGE/$CNB" 2>/dev/null | sed 's|^/||') || die "$CNB is not a tar archive"
for entry in oci-layout index.json; do
  grep -qx "$entry" <<<"$members" || die "$CNB has no $entry: not an OCI layout archive"
done
cp "$BPDIR/bin/filesync" "$STAGE/$BIN"
(cd "$STAGE" && sha256sum "$CNB" "$BIN" >SHA256SUMS)
# Each file appears whole (rename), so a reader never sees a partial one.
for f in "$CNB" "$BIN" SHA256SUMS; do
  mv -f "$STAGE/$f" "$OUT/$f"
done

if [ -n "$PUBLISH" ]; then
  REF=$PUBLISH:$VERSION
  echo "==> pack buildpack package $REF --publish"
  "$PACK" buildpack package "$REF" --path "$BPDIR" --publish \
    --target linux/amd64 --no-color ||
    die "publishing $REF failed (see pack's output above); is the registry up, and does it accept pushes over plain HTTP on 127.0.0.1 or TLS elsewhere?"
fi

echo "==> released skaffold-filesync $VERSION into $OUT"
(cd "$OUT" && printf '    %-40s %s bytes\n' \
  "$CNB" "$(stat -c %s "$CNB")" "$BIN" "$(stat -c %s "$BIN")")
(cd "$OUT" && sed 's/^/    /' SHA256SUMS)
if [ -n "$PUBLISH" ]; then
  echo "    published $REF  (for pack --buildpack, a builder.toml uri, skaffold.yaml buildpacks)"
fi
