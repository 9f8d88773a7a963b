#!/usr/bin/env bash
# The project's own single-node Kubernetes v1.33.13 cluster, for the tests
# and the demo, changing nothing on the host:
#
#   scripts/cluster.sh build   # kube-* and kubectl from tools/kubernetes into .work/bin (cached)
#   scripts/cluster.sh start   # prints `export KUBECONFIG=...` (context `local`); idempotent
#   scripts/cluster.sh stop    # stops every process it started, by pid; removes what they made
#   scripts/cluster.sh env     # prints `export KUBECONFIG=...`
#   scripts/cluster.sh status  # exit 0 when the cluster is up
#   scripts/cluster.sh leftovers  # what of a stopped cluster is still on the host, one line each
#
# A start that fails prints one line naming the component and its log file
# (.work/cluster/logs/COMPONENT.log), stops what it started and exits 1.
# FILESYNC_CLUSTER_TRACE=1 reports when each component became ready and
# how long each took to stop.
#
# Components: etcd (Debian's etcd-server), kube-apiserver, kube-controller-
# manager, kube-scheduler, the kubelet (built from k8s.io/kubernetes v1.33.13,
# tools/kubernetes), a private containerd 1.6 (Debian's, with its CRI plugin)
# running Debian's runc and CNI plugins, a locally built pause image. Debian
# packages are extracted with `dpkg-deb -x` into .work/cluster/root: nothing
# is installed, and no daemon is started on install. Everything lives under
# .work/cluster (binaries in .work/bin); every port is on 127.0.0.1, chosen
# free at start; containerd listens on a unix socket under .work.
#
# What keeps the host unchanged (each point was seen to matter):
# - The kubelet rewrites six kernel settings at start unless they already
#   hold the values it wants (pkg/kubelet/cm/container_manager_linux.go,
#   setupKernelTunables). It runs in a mount namespace of its own where each
#   of those /proc/sys files is covered by a bind-mounted regular file that
#   already holds that value, with `protectKernelDefaults: true`, so that if
#   a cover were missing it would refuse to start rather than write.
#   `makeIPTablesUtilChains: false`: no KUBE-* iptables chains.
# - containerd and the kubelet each get blank tmpfs over /run, /var/lib and
#   /var/log in their own mount namespace (the kubelet's namespace is made
#   from containerd's, and the kubelet's root dir is a shared bind mount in
#   it, so the volumes the kubelet mounts reach containerd's containers).
#   Pod logs go to .work/cluster/pod-logs, seen by both.
# - Pods live under their own cgroup root (/filesync-k8s in every
#   hierarchy), emptied and removed at stop.
# - CNI: Debian's bridge plugin on a bridge of our own with no gateway and
#   no masquerading (isGateway/ipMasq false), so ip_forward and iptables are
#   never touched; the bridge is deleted at stop. No kube-proxy, no DNS:
#   exec, logs and port-forward work, Services don't.
# - containerd: AppArmor off, `restrict_oom_score_adj = true` (the sandbox
#   lacks CAP_SYS_RESOURCE), the plugin that would create /opt/containerd
#   disabled. Registries on 127.0.0.1 are pulled over plain http (containerd
#   does so for loopback hosts when no hosts.toml says otherwise).
# - The kube-controller-manager creates its FlexVolume directory,
#   /usr/libexec/kubernetes/kubelet-plugins/volume/exec by default, on the
#   host: it and the kubelet's (`volumePluginDir`) point under .work.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
WORK=$REPO/.work
BIN=$WORK/bin
D=$WORK/cluster
ROOT=$D/root
PKI=$D/pki
LOGS=$D/logs
PIDS=$D/pids
RUN=$D/run
K8S_VERSION=v1.33.13
DEBS=(etcd-server containerd runc containernetworking-plugins)
CGROUP=filesync-k8s
BRIDGE=fsk8s0
POD_SUBNET=10.244.0.0/24
SERVICE_SUBNET=10.96.0.0/24
PAUSE_IMAGE=filesync.local/pause:1
GO=${GO:-/usr/local/go/bin/go}
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet)
# The six kernel settings and the values the kubelet v1.33 wants
# (k8s.io/component-helpers/node/util/sysctl: VMOvercommitMemoryAlways,
# VMPanicOnOOMInvokeOOMKiller, KernelPanicRebootTimeout,
# KernelPanicOnOopsAlways, RootMaxKeysSetting, RootMaxBytesSetting).
KUBELET_SYSCTLS="vm/overcommit_memory=1 vm/panic_on_oom=0 kernel/panic=10 kernel/panic_on_oops=1 kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000"

say() { echo "==> cluster: $*" >&2; }
die() { echo "cluster.sh: $*" >&2; exit 1; }
KUBECTL=$BIN/kubectl
kc() { "$KUBECTL" --kubeconfig "$D/kubeconfig" "$@"; }

# Each job in a file of its own (they share the variables above).
for part in build certs processes configs control_plane node up_down leftovers; do
  # shellcheck source=/dev/null
  . "$REPO/scripts/lib/cluster/$part.sh"
done

# One start or stop at a time (fd 9 is closed in every process started).
lock() { mkdir -p "$D" "$PIDS" && exec 9>"$D/lock" && flock 9; }

case "${1:-}" in
  build) lock; build ;;
  start) lock; start ;;
  stop) lock; stop ;;
  env) echo "export KUBECONFIG=$D/kubeconfig" ;;
  status) status ;;
  leftovers) leftovers ;;
  *) die "usage: scripts/cluster.sh build|start|stop|env|status|leftovers" ;;
esac
