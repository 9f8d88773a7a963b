#!/usr/bin/env bash
# Sourced by scripts/cluster.sh (its variables and helpers): the cgroups, the configuration
# files of containerd, CNI and the kubelet, and the covers of the kernel
# settings the kubelet would write.

cgroup_hierarchies() {
  awk '$3 == "cgroup" || $3 == "cgroup2" {print $2}' /proc/self/mounts | grep '^/sys/fs/cgroup/'
}

make_cgroups() {
  local h
  for h in $(cgroup_hierarchies); do
    mkdir -p "$h/$CGROUP"
    if [ -f "$h/cpuset.cpus" ]; then
      [ -s "$h/$CGROUP/cpuset.cpus" ] && [ "$(cat "$h/$CGROUP/cpuset.cpus")" != "" ] ||
        cat "$h/cpuset.cpus" > "$h/$CGROUP/cpuset.cpus"
      [ "$(cat "$h/$CGROUP/cpuset.mems")" != "" ] || cat "$h/cpuset.mems" > "$h/$CGROUP/cpuset.mems"
    fi
  done
}

write_configs() { # NODE
  local node=$1
  mkdir -p "$D/containerd/root" "$D/containerd/certs.d" "$D/cni/net.d" "$D/kubelet" "$D/pod-logs" \
    "$D/etcd" "$D/kubelet-plugins"
  cat > "$D/containerd/config.toml" <<EOF
version = 2
root = "$D/containerd/root"
state = "/run/containerd"
oom_score = 0
# opt would create /opt/containerd on the host; the others are unused.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "$RUN/containerd.sock"
[ttrpc]
  address = "$RUN/containerd.sock.ttrpc"
[debug]
  level = "info"
[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  restrict_oom_score_adj = true
  enable_unprivileged_ports = false
  enable_unprivileged_icmp = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$ROOT/usr/sbin/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$ROOT/usr/lib/cni"
    conf_dir = "$D/cni/net.d"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$D/containerd/certs.d"
EOF
  cat > "$D/cni/net.d/10-filesync.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "filesync-k8s",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": false,
      "isDefaultGateway": false,
      "ipMasq": false,
      "hairpinMode": false,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_SUBNET"}]],
        "dataDir": "/var/lib/cni/networks"
      }
    }
  ]
}
EOF
  cat > "$D/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $P_KUBELET
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $P_KUBELET_HEALTHZ
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization:
  mode: Webhook
containerRuntimeEndpoint: unix://$RUN/containerd.sock
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP
cgroupsPerQOS: true
enforceNodeAllocatable: [pods]
failCgroupV1: false
failSwapOn: false
protectKernelDefaults: true
makeIPTablesUtilChains: false
podLogsDir: $D/pod-logs
volumePluginDir: $D/kubelet-plugins
resolvConf: ""
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
# The node's disk is the host's, shared with everything else the suite
# writes: a percentage of a large disk (1% of CI's 252 GB is 2.5 GB) evicted
# a test's Pod for DiskPressure while the disk still had room. Evict only
# when it is all but full.
evictionHard:
  memory.available: 100Mi
  nodefs.available: 256Mi
  nodefs.inodesFree: 1%
  imagefs.available: 256Mi
  imagefs.inodesFree: 1%
rotateCertificates: false
serverTLSBootstrap: false
EOF
}

sysctl_files() {
  # Regular files, one per covered setting, holding the wanted value.
  local s name
  rm -rf "$D/sysctl" && mkdir -p "$D/sysctl"
  for s in $KUBELET_SYSCTLS; do
    name=${s%%=*}
    echo "${s#*=}" > "$D/sysctl/${name//\//.}"
  done
}
