#!/usr/bin/env bash
# Packages the skaffold-filesync buildpack:
#   OUTDIR/skaffold-filesync/{buildpack.toml, bin/detect, bin/build, bin/filesync}
#   OUTDIR/skaffold-filesync.cnb   (a tar of that directory)
# bin/detect and bin/build are the libcnb buildpack binary (it dispatches on
# argv[0]); bin/filesync is the runtime the buildpack installs in the image.
# Both are static (glibc, crt-static: see .cargo/config.toml), so they run on
# any run image, Paketo tiny included.
#   scripts/package-buildpack.sh [OUTDIR]     (default: target/buildpack)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-target/buildpack}
TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
REL=$TARGET_DIR/x86_64-unknown-linux-gnu/release

echo "==> cargo build --release (static)"
cargo build --release -q -p skaffold-filesync-buildpack
# The runtime in the image needs no registry client (that is for `inspect`).
cargo build --release -q -p filesync --no-default-features

dir=$OUT/skaffold-filesync
rm -rf "$dir"
mkdir -p "$dir/bin"
cp crates/buildpack/buildpack.toml "$dir/"
cp "$REL/skaffold-filesync-buildpack" "$dir/bin/build"
ln -sf build "$dir/bin/detect"
cp "$REL/filesync" "$dir/bin/filesync"
for b in "$dir/bin/build" "$dir/bin/filesync"; do
  if ! file "$b" | grep -q "static"; then
    echo "error: $b is not statically linked" >&2
    exit 1
  fi
done
tar -C "$OUT" -cf "$OUT/skaffold-filesync.cnb" skaffold-filesync
echo "==> packaged $dir"
printf '    %-28s %s bytes\n' "bin/build (buildpack)" "$(stat -c %s "$dir/bin/build")" \
  "bin/filesync (runtime)" "$(stat -c %s "$dir/bin/filesync")" \
  "skaffold-filesync.cnb" "$(stat -c %s "$OUT/skaffold-filesync.cnb")"
