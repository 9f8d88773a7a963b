#!/usr/bin/env bash
# Sourced by scripts/cluster.sh (its variables and helpers): what of the cluster is left on
# the host: the processes stop kills, and the one list of every leftover
# (`scripts/cluster.sh leftovers`, read by crates/e2e/src/cluster.rs).

# Processes of the cluster that are not recorded pids: containerd's shims
# (they name our containerd's socket) and whatever runs in the pods'
# cgroups. All were started, through containerd, by this script.
stray_pids() {
  local p h
  local cmd
  for p in /proc/[0-9]*; do
    cmd=$({ tr '\0' ' ' < "$p/cmdline"; } 2>/dev/null) || continue
    case "$cmd" in
      "$ROOT/usr/bin/containerd-shim"*" -address $RUN/containerd.sock "*) echo "${p#/proc/}" ;;
    esac
  done
  for h in $(cgroup_hierarchies); do
    [ -d "$h/$CGROUP" ] && find "$h/$CGROUP" -name cgroup.procs -exec cat {} + 2>/dev/null
  done
  true
}

# What is left of a stopped cluster, one line each; nothing when it is gone:
# processes (ours are the ones whose command line names .work/cluster or
# .work/bin/kube*, or that sit in the pods' cgroups), host mounts of it, its
# bridge and the veths on it, its cgroups.
leftovers() {
  local p cmd cgroup h
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = "$$" ] && continue
    cmd=$({ tr '\0' ' ' < "$p/cmdline"; } 2>/dev/null) || continue
    cgroup=$(cat "$p/cgroup" 2>/dev/null) || cgroup=
    case "$cmd" in
      *"$D"* | *"$BIN/kube"*) ;;
      *) case "$cgroup" in *":/$CGROUP"*) ;; *) continue ;; esac ;;
    esac
    cmd=${cmd#"${cmd%%[![:space:]]*}"}
    echo "process ${p#/proc/}: ${cmd%"${cmd##*[![:space:]]}"}"
  done
  grep -F -e "$D" -e "$CGROUP" /proc/self/mountinfo | sed 's/^/mount: /' || true
  ip -o link | grep -F -e ": $BRIDGE:" -e "master $BRIDGE " | sed 's/^/link: /' || true
  for h in /sys/fs/cgroup/*/; do
    [ -d "$h$CGROUP" ] && echo "cgroup: $h$CGROUP"
  done
  true
}
