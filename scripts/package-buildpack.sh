#!/usr/bin/env bash
# Assembles the skaffold-filesync buildpack directory:
#   OUTDIR/skaffold-filesync/{buildpack.toml, bin/detect, bin/build, bin/filesync,
#   bin/libfilesync_listen.so, java/FilesyncCompiler.class}
# bin/detect and bin/build are the libcnb buildpack binary (it dispatches on
# argv[0]); bin/filesync is the in-image runtime the buildpack installs in
# the image (the `filesync-runtime` binary of crates/runtime, under the name
# the image's process types run; the developer's `filesync` CLI is another
# binary, crates/filesync, not packaged).
# scripts/release.sh packages this directory with `pack buildpack package`
# into the released .cnb; pack also takes the directory itself as a
# `--buildpack` or a builder.toml `uri`.
#
# Both binaries are static (glibc with crt-static), so they run on any run
# image, Paketo tiny included (no musl target here). The static build
# belongs to packaging, not to the workspace: `cargo build` stays a normal
# host build, and only these two builds get an explicit
# `--target x86_64-unknown-linux-gnu` with crt-static for that target. With
# an explicit --target, cargo applies target rustflags to the target's
# artifacts only; build scripts and proc-macros stay dynamic (crt-static
# breaks them).
#   scripts/package-buildpack.sh [OUTDIR]     (default: target/buildpack)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-target/buildpack}
TRIPLE=x86_64-unknown-linux-gnu
TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
REL=$TARGET_DIR/$TRIPLE/release

# RUSTFLAGS (and CARGO_ENCODED_RUSTFLAGS) take precedence over per-target
# rustflags in cargo, so with either set the binaries would silently lose
# crt-static.
if [ -n "${RUSTFLAGS:-}${CARGO_ENCODED_RUSTFLAGS:-}" ]; then
  echo "package-buildpack: RUSTFLAGS or CARGO_ENCODED_RUSTFLAGS is set; cargo would then ignore" >&2
  echo "  the static-linking flag for $TRIPLE. Unset it and run again." >&2
  exit 1
fi
if [ "$(uname -s)/$(uname -m)" != "Linux/x86_64" ]; then
  echo "package-buildpack: note: the image binaries are $TRIPLE; on $(uname -s)/$(uname -m)" >&2
  echo "  this is a cross build (rustup target add $TRIPLE, and a linker for it)." >&2
fi
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static"

echo "==> cargo build --release --target $TRIPLE (static: crt-static)"
cargo build --release -q --target "$TRIPLE" -p skaffold-filesync-buildpack
cargo build --release -q --target "$TRIPLE" -p filesync-runtime --bin filesync-runtime

# The held-sockets interposer (crates/listen-preload), preloaded into the
# app: a shared object, so dynamically linked against glibc (crt-static
# cannot make a cdylib), built apart (its own target dir: other rustflags)
# and needing no glibc newer than the oldest run image's. The run images
# here (scripts/run-images.sh) carry Debian bookworm's glibc 2.36, Paketo's
# jammy 2.35. A static app (no loader) never reads LD_PRELOAD: the
# supervisor then says once that its port is not held.
PRELOAD_DIR=$TARGET_DIR/listen-preload
GLIBC_MAX=2.35
echo "==> cargo build --release --target $TRIPLE -p filesync-listen-preload (dynamic, glibc)"
env -u CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS \
  cargo build --release -q --target "$TRIPLE" --target-dir "$PRELOAD_DIR" -p filesync-listen-preload
PRELOAD=$PRELOAD_DIR/$TRIPLE/release/libfilesync_listen.so
newest=$(objdump -T "$PRELOAD" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n1)
if [ "$(printf '%s\n%s\n' "$newest" "$GLIBC_MAX" | sort -V | tail -n1)" != "$GLIBC_MAX" ]; then
  echo "package-buildpack: $PRELOAD needs glibc $newest, newer than the run images' $GLIBC_MAX:" >&2
  objdump -T "$PRELOAD" | grep "GLIBC_$newest" >&2 || true
  exit 1
fi

# A static executable has no program interpreter (PT_INTERP): nothing for
# the run image's dynamic loader to resolve, whatever libc it has.
for b in "$REL/skaffold-filesync-buildpack" "$REL/filesync-runtime"; do
  if readelf -lW "$b" | grep -q 'INTERP'; then
    echo "package-buildpack: $b is dynamically linked (it has a program interpreter):" >&2
    readelf -lW "$b" | grep -A1 INTERP >&2 || true
    echo "  it would not start on run images without glibc; check that nothing overrides" >&2
    echo "  CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS (e.g. a .cargo/config.toml)." >&2
    exit 1
  fi
done

dir=$OUT/skaffold-filesync
rm -rf "$dir"
mkdir -p "$dir/bin"
cp crates/buildpack/buildpack.toml "$dir/"
cp "$REL/skaffold-filesync-buildpack" "$dir/bin/build"
ln -sf build "$dir/bin/detect"
cp "$REL/filesync-runtime" "$dir/bin/filesync"
cp "$PRELOAD" "$dir/bin/libfilesync_listen.so"
# The resident compiler of Java dev images (crates/buildpack/java), for the
# JDK the image runs: --release 17 is the oldest with Unix domain sockets.
# Without a JDK here the buildpack still works; Java dev images then
# compile with a javac process per sync (slower).
if command -v javac >/dev/null; then
  mkdir -p "$dir/java"
  javac -Xlint:all -Werror --release 17 -d "$dir/java" crates/buildpack/java/FilesyncCompiler.java
else
  echo "package-buildpack: warning: no javac: Java dev images get no resident compiler" >&2
fi
echo "==> assembled $dir"
printf '    %-28s %s bytes\n' "bin/build (buildpack)" "$(stat -c %s "$dir/bin/build")" \
  "bin/filesync (runtime)" "$(stat -c %s "$dir/bin/filesync")" \
  "bin/libfilesync_listen.so" "$(stat -c %s "$dir/bin/libfilesync_listen.so")"
