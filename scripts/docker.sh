#!/usr/bin/env bash
# A private Docker Engine for the tests and the demo: Debian's docker.io
# (dockerd 20.10 and its containerd), extracted with `dpkg-deb -x` into
# .work/docker/root (nothing is installed on the host), started in its own
# mount namespace so that the `/var/run/docker.sock` pack bind-mounts into
# its build container is this daemon's own, and so that nothing it mounts
# or writes under /run is seen by the host.
#
# It changes no host setting: no default bridge (--bridge=none), no
# iptables rules (--iptables=false --ip6tables=false), no ip_forward
# (--ip-forward=false), its own data root, exec root, config file, key file
# and cgroup parent. Containers reach each other on user-defined bridges
# (pack's and Skaffold's networks); published ports land on 127.0.0.1.
#
#   scripts/docker.sh start   # prints `export DOCKER_HOST=...`; idempotent
#   scripts/docker.sh stop    # stops the daemon by its pid, waits for exit
#   scripts/docker.sh env     # prints `export DOCKER_HOST=...`
#   scripts/docker.sh extract # only extracts the daemon's files (scripts/setup.sh)
#
# A daemon the machine already runs is never used or stopped: this one has
# its own socket, `.work/docker/docker.sock`.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$PWD/.work
D=$WORK/docker
ROOT=$D/root
SOCK=$D/docker.sock
PIDFILE=$D/dockerd.pid
LOG=$D/dockerd.log
CGROUP_PARENT=filesync-docker
DEBS=(docker.io containerd tini)

die() { echo "docker.sh: $*" >&2; exit 1; }
running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
client() { "$ROOT/usr/bin/docker" -H "unix://$SOCK" "$@"; }

extract() {
  local stamp=$D/root.stamp want
  want="${DEBS[*]}"
  [ -x "$ROOT/usr/sbin/dockerd" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return 0
  echo "==> docker: extracting Debian's ${DEBS[*]} into $ROOT" >&2
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && { apt-get download -qq "${DEBS[@]}" 2>/dev/null ||
    { apt-get update -qq && apt-get download -qq "${DEBS[@]}"; }; }) ||
    die "cannot download ${DEBS[*]} with apt-get download (is apt reachable?)"
  rm -rf "$ROOT" && mkdir -p "$ROOT"
  for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$ROOT"; done
  rm -rf "$tmp"
  echo "$want" > "$stamp"
}

start() {
  mkdir -p "$D"
  if running; then
    echo "export DOCKER_HOST=unix://$SOCK"
    return 0
  fi
  extract
  command -v runc >/dev/null || die "runc is missing: run scripts/setup.sh"
  local driver=${FILESYNC_DOCKER_STORAGE_DRIVER:-}
  if [ -z "$driver" ]; then
    if grep -qw overlay /proc/filesystems; then driver=overlay2; else driver=vfs; fi
  fi
  # containerd's `opt` plugin creates /opt/containerd: in the namespace /opt
  # is a blank tmpfs.
  # dockerd 20.10 writes its trust key to /etc/docker/key.json: in the
  # namespace, /etc/docker is our own directory (the host's is Debian
  # docker-registry's, which setup installs; it is never written).
  [ -d /etc/docker ] || die "/etc/docker is missing: run scripts/setup.sh (docker-registry provides it)"
  mkdir -p "$D/data" "$D/etc"
  echo '{}' > "$D/daemon.json"
  rm -f "$SOCK"
  echo "==> docker: starting a private dockerd (storage: $driver, log: $LOG)" >&2
  # The inner shell runs in a new mount namespace: a blank tmpfs over /run
  # (so /var/run/docker.sock, /run/docker and containerd's state are
  # private), then dockerd in place of the shell, so $! is dockerd's pid.
  PATH="$ROOT/usr/bin:$ROOT/usr/sbin:$PATH" setsid unshare --mount --propagation private -- \
    bash -c 'mount -t tmpfs -o mode=755 filesync-docker-run /run &&
      mount --bind "$0" /etc/docker && mount -t tmpfs -o mode=755 filesync-docker-opt /opt &&
      exec "$@"' "$D/etc" \
    "$ROOT/usr/sbin/dockerd" \
    --data-root "$D/data" --exec-root /run/docker --pidfile /run/docker.pid \
    --config-file "$D/daemon.json" \
    -H unix:///var/run/docker.sock -H "unix://$SOCK" \
    --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
    --storage-driver="$driver" --cgroup-parent="$CGROUP_PARENT" \
    --userland-proxy-path "$ROOT/usr/sbin/docker-proxy" --init-path "$ROOT/usr/bin/tini-static" \
    >"$LOG" 2>&1 </dev/null &
  echo $! > "$PIDFILE"
  local i
  for i in $(seq 1 300); do
    if client version >/dev/null 2>&1; then
      echo "==> docker: ready ($(client version -f '{{.Server.Version}}'), socket $SOCK)" >&2
      echo "export DOCKER_HOST=unix://$SOCK"
      return 0
    fi
    running || die "the private dockerd exited while starting: $(tail -n 1 "$LOG"); see $LOG"
    sleep 0.1
  done
  die "the private dockerd did not answer within 30 s; see $LOG"
}

stop() {
  if ! running; then
    rm -f "$PIDFILE"
    return 0
  fi
  local pid
  pid=$(cat "$PIDFILE")
  # Containers first (so their cgroups, shims and proxies go with them).
  client ps -aq 2>/dev/null | xargs -r "$ROOT/usr/bin/docker" -H "unix://$SOCK" rm -f >/dev/null 2>&1 || true
  # Then the user-defined networks (a `skaffold dev` that was killed leaves
  # its skaffold-network-*): each is a bridge on the host, which would
  # outlive the daemon.
  client network prune -f >/dev/null 2>&1 || true
  kill -TERM "$pid"
  local i
  for i in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "docker.sh: dockerd ($pid) did not exit in 30 s; killing it" >&2
    kill -KILL "$pid"
  fi
  rm -f "$PIDFILE" "$SOCK"
  # The cgroup parent dockerd made, now empty.
  find /sys/fs/cgroup -maxdepth 2 -type d -name "$CGROUP_PARENT" -exec rmdir {} + 2>/dev/null || true
  echo "==> docker: stopped" >&2
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) echo "export DOCKER_HOST=unix://$SOCK" ;;
  extract) mkdir -p "$D" && extract && echo "==> docker: ${DEBS[*]} in $ROOT" >&2 ;;
  *) die "usage: scripts/docker.sh start|stop|env|extract" ;;
esac
