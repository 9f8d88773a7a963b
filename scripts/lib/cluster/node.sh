#!/usr/bin/env bash
# Sourced by scripts/cluster.sh (its variables and helpers): the node: the private containerd
# and the kubelet, each in a mount namespace of its own.

ctr_() { "$ROOT/usr/bin/ctr" --address "$RUN/containerd.sock" "$@"; }

start_containerd() {
  rm -f "$RUN/containerd.sock" "$RUN/containerd.sock.ttrpc"
  # A new mount namespace: blank tmpfs over /run, /var/lib and /var/log;
  # the kubelet's root dir bind-mounted onto itself and made shared, so
  # the kubelet's namespace (made from this one) and this one see the same
  # volume mounts under it. Then containerd in place of the shell.
  PATH="$ROOT/usr/bin:$ROOT/usr/sbin:$PATH" launch containerd "$ROOT/usr/bin/containerd" \
    unshare --mount --propagation private -- bash -c '
      set -e
      for d in /run /var/lib /var/log; do mount -t tmpfs -o mode=755,nosuid,nodev filesync-k8s "$d"; done
      mount --bind "$0" "$0" && mount --make-shared "$0"
      exec "$@"' "$D/kubelet" \
    "$ROOT/usr/bin/containerd" --config "$D/containerd/config.toml"
  wait_for containerd 30 ctr_ version
  ctr_ -n k8s.io images import "$D/pause/pause-oci.tar" >>"$LOGS/containerd.log" 2>&1 ||
    fail containerd "could not import the pause image"
}

start_kubelet() { # NODE
  local node=$1 cpid
  kubeconfig "$D/kubelet.kubeconfig" kubelet "https://127.0.0.1:$P_APISERVER"
  cpid=$(live_pid containerd) || fail containerd "is not running"
  sysctl_files
  # The kubelet's own mount namespace, made from containerd's (so the shared
  # root dir is a peer of containerd's): its own blank tmpfs over /run,
  # /var/lib and /var/log, and the six kernel settings covered by regular
  # files holding the wanted values. It is checked before the kubelet runs:
  # no kubelet ever starts where it could see the host's files.
  launch kubelet "$BIN/kubelet" \
    nsenter --mount="/proc/$cpid/ns/mnt" -- unshare --mount --propagation unchanged -- bash -c '
      set -e
      dir=$0
      for d in /run /var/lib /var/log; do mount -t tmpfs -o mode=755,nosuid,nodev filesync-k8s "$d"; done
      for s in '"$KUBELET_SYSCTLS"'; do
        name=${s%%=*} want=${s#*=}
        f=$dir/${name//\//.}
        mount --bind "$f" "/proc/sys/$name"
        got=$(cat "/proc/sys/$name")
        [ "$got" = "$want" ] || { echo "covering /proc/sys/$name failed (reads $got)" >&2; exit 1; }
        grep -qs " /proc/sys/$name " /proc/self/mounts || { echo "/proc/sys/$name is not covered" >&2; exit 1; }
      done
      exec "$@"' "$D/sysctl" \
    "$BIN/kubelet" --config "$D/kubelet.yaml" --kubeconfig "$D/kubelet.kubeconfig" \
    --root-dir "$D/kubelet" --cert-dir "$D/kubelet/pki" --hostname-override "$node" --v=1
}
