#!/usr/bin/env bash
# The project's own single-node Kubernetes v1.33.13 cluster, for the tests
# and the demo, changing nothing on the host:
#
#   scripts/cluster.sh build   # kube-* and kubectl from tools/kubernetes into .work/bin (cached)
#   scripts/cluster.sh start   # prints `export KUBECONFIG=...` (context `local`); idempotent
#   scripts/cluster.sh stop    # stops every process it started, by pid; removes what they made
#   scripts/cluster.sh env     # prints `export KUBECONFIG=...`
#   scripts/cluster.sh status  # exit 0 when the cluster is up
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

# ---------------------------------------------------------------- build ----

build_stamp() {
  (cd tools/kubernetes && find . -type f -print0 | sort -z | xargs -0 sha256sum; echo "$K8S_VERSION") |
    sha256sum | cut -c1-16
}

build() {
  local stamp
  stamp=$(build_stamp)
  local b have=1
  for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl; do
    [ -x "$BIN/$b" ] || have=0
  done
  [ -x "$D/pause/pause" ] || have=0
  if [ $have = 1 ] && [ "$(cat "$D/build.stamp" 2>/dev/null)" = "$stamp" ]; then
    return 0
  fi
  [ -x "$GO" ] || die "Go is missing ($GO): Kubernetes $K8S_VERSION builds from tools/kubernetes with it"
  say "building Kubernetes $K8S_VERSION (kube-apiserver, kubelet, kube-controller-manager, kube-scheduler, kubectl) from tools/kubernetes; ~5 min cold"
  mkdir -p "$BIN" "$D/pause"
  # Both version packages: component-base's is what the servers and
  # `kubectl version` report, client-go's what clients send as user agent.
  local ld="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=33 -X $pkg.gitTreeState=clean"
  done
  (cd tools/kubernetes &&
    CGO_ENABLED=0 "$GO" build -trimpath -buildvcs=false -ldflags "$ld" -o "$BIN/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubelet \
      k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
      k8s.io/kubernetes/cmd/kubectl &&
    CGO_ENABLED=0 "$GO" build -trimpath -buildvcs=false -ldflags "-s -w" -o "$D/pause/pause" ./pause) ||
    die "building Kubernetes $K8S_VERSION failed (go build in tools/kubernetes)"
  pack_pause
  echo "$stamp" > "$D/build.stamp"
}

# The pause image as an OCI archive: one uncompressed layer holding /pause.
pack_pause() {
  local t=$D/pause/oci
  rm -rf "$t" && mkdir -p "$t/blobs/sha256" "$D/pause/rootfs"
  cp "$D/pause/pause" "$D/pause/rootfs/pause"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$D/pause/rootfs" -cf "$D/pause/layer.tar" pause
  local ld ls cd cs md ms
  ld=$(sha256sum "$D/pause/layer.tar" | cut -d' ' -f1); ls=$(stat -c %s "$D/pause/layer.tar")
  mv "$D/pause/layer.tar" "$t/blobs/sha256/$ld"
  printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/pause"],"User":"65535:65535"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$ld" > "$D/pause/config.json"
  cd=$(sha256sum "$D/pause/config.json" | cut -d' ' -f1); cs=$(stat -c %s "$D/pause/config.json")
  mv "$D/pause/config.json" "$t/blobs/sha256/$cd"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$cd" "$cs" "$ld" "$ls" > "$D/pause/manifest.json"
  md=$(sha256sum "$D/pause/manifest.json" | cut -d' ' -f1); ms=$(stat -c %s "$D/pause/manifest.json")
  mv "$D/pause/manifest.json" "$t/blobs/sha256/$md"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$md" "$ms" "$PAUSE_IMAGE" "${PAUSE_IMAGE##*:}" > "$t/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$t/oci-layout"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$t" -cf "$D/pause/pause-oci.tar" .
  rm -rf "$t" "$D/pause/rootfs"
}

# ------------------------------------------------------------- packages ----

extract() {
  local stamp=$D/root.stamp want
  want="${DEBS[*]}"
  [ -x "$ROOT/usr/bin/containerd" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return 0
  say "extracting Debian's ${DEBS[*]} into $ROOT"
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && { apt-get download -qq "${DEBS[@]}" 2>/dev/null ||
    { apt-get update -qq && apt-get download -qq "${DEBS[@]}"; }; }) ||
    { rm -rf "$tmp"; die "cannot download ${DEBS[*]} with apt-get download (is apt reachable?)"; }
  rm -rf "$ROOT" && mkdir -p "$ROOT"
  local deb
  for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$ROOT"; done
  rm -rf "$tmp"
  echo "$want" > "$stamp"
}

host_tools() {
  local t missing=()
  for t in openssl curl mount unshare nsenter ip; do command -v "$t" >/dev/null || missing+=("$t"); done
  ((${#missing[@]} == 0)) && return 0
  die "missing host tools: ${missing[*]} (Debian: openssl curl util-linux iproute2)"
}

# ---------------------------------------------------------------- ports ----

# Free TCP ports on 127.0.0.1, below the ephemeral range, none listening.
free_ports() { # COUNT
  local n=$1 used p picked=()
  used=$(awk 'NR>1 {split($2,a,":"); print strtonum("0x" a[2])}' /proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -un)
  while ((${#picked[@]} < n)); do
    p=$((20000 + RANDOM % 12000))
    grep -qx "$p" <<<"$used" && continue
    [[ " ${picked[*]} " == *" $p "* ]] && continue
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
    picked+=("$p")
  done
  echo "${picked[*]}"
}

# ---------------------------------------------------------- certificates ----

node_name() {
  # The apiserver reaches the kubelet by the node's Hostname address: use
  # the machine's hostname when it resolves to loopback only, else
  # `localhost`, so that traffic stays on 127.0.0.1 either way.
  local h addrs
  h=$(hostname | tr 'A-Z' 'a-z')
  addrs=$(getent ahosts "$h" 2>/dev/null | awk '{print $1}' | sort -u)
  if [ -n "$addrs" ] && ! grep -vqE '^(127\.|::1$)' <<<"$addrs"; then echo "$h"; else echo localhost; fi
}

cert() { # NAME SUBJECT [SAN]
  local name=$1 subj=$2 san=${3:-} ext=$PKI/$1.ext
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/$name.key" 2>/dev/null
  openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [ -n "$san" ]; then echo "extendedKeyUsage=serverAuth"; echo "subjectAltName=$san"; else echo "extendedKeyUsage=clientAuth"; fi
  } > "$ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 365 -sha256 -extfile "$ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$ext"
}

certificates() {
  local node=$1 want
  want="$node $(hostname)"
  if [ -f "$PKI/stamp" ] && [ "$(cat "$PKI/stamp")" = "$want" ] &&
    openssl x509 -checkend 86400 -noout -in "$PKI/ca.crt" >/dev/null 2>&1; then
    return 0
  fi
  rm -rf "$PKI" && mkdir -p "$PKI" && chmod 700 "$PKI"
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=filesync-k8s-ca" -days 365 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -out "$PKI/ca.crt" 2>/dev/null
  local svc_ip=${SERVICE_SUBNET%.*}.1
  cert apiserver "/CN=kube-apiserver" \
    "IP:127.0.0.1,DNS:localhost,DNS:$node,DNS:$(hostname),DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:$svc_ip"
  cert kubelet-serving "/CN=$node" "IP:127.0.0.1,DNS:$node,DNS:localhost"
  cert admin "/O=system:masters/CN=filesync-admin"
  cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
  cert controller-manager "/CN=system:kube-controller-manager"
  cert scheduler "/CN=system:kube-scheduler"
  cert kubelet "/O=system:nodes/CN=system:node:$node"
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/sa.key" 2>/dev/null
  openssl ec -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  rm -f "$PKI/ca.srl"
  echo "$want" > "$PKI/stamp"
}

kubeconfig() { # FILE CERTNAME SERVER
  local b64='base64 -w0'
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: $3
    certificate-authority-data: $($b64 < "$PKI/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $($b64 < "$PKI/$2.crt")
    client-key-data: $($b64 < "$PKI/$2.key")
contexts:
- name: local
  context:
    cluster: local
    user: $2
current-context: local
EOF
  chmod 600 "$1"
}

# ------------------------------------------------------------ processes ----

pidfile() { echo "$PIDS/$1.pid"; }

# The recorded pid, only while that process is still the one we started
# (its command line names our binary), so a reused pid is never touched.
live_pid() { # NAME
  local f pid exe
  f=$(pidfile "$1")
  [ -f "$f" ] || return 1
  read -r pid exe < "$f" || true
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$exe" || return 1
  echo "$pid"
}

record() { echo "$2 $3" > "$(pidfile "$1")"; } # NAME PID EXE

# Running, not a zombie: a process whose starter has exited is reaped by
# init, which may take a while; it has exited all the same.
alive() { # PID
  local st
  st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "${st%% *}" != Z ]
}

stop_pid() { # NAME [TIMEOUT_S]
  local pid i t=${2:-15} t0=$SECONDS
  pid=$(live_pid "$1") || { rm -f "$(pidfile "$1")"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < t * 20; i++)); do
    alive "$pid" || break
    sleep 0.05
  done
  if alive "$pid"; then
    echo "cluster.sh: $1 ($pid) did not exit in $t s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
  fi
  rm -f "$(pidfile "$1")"
  trace "$1 stopped after $((SECONDS - t0)) s"
}

# Start NAME in the background (new session, log in logs/NAME.log) and
# record its pid. The command execs the binary, so $! is the binary's pid.
launch() { # NAME EXE CMD...
  local name=$1 exe=$2; shift 2
  : > "$LOGS/$name.log"
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null 9>&- &
  record "$name" $! "$exe"
}

fail() { # COMPONENT WHAT
  echo "cluster.sh: $1 $2; see ${LOGS#"$REPO"/}/$1.log" >&2
  stop >/dev/null 2>&1 || true
  exit 1
}

trace() { [ -z "${FILESYNC_CLUSTER_TRACE:-}" ] || echo "cluster.sh: $(date +%T.%N | cut -c1-12) $*" >&2; }

wait_for() { # COMPONENT TIMEOUT_S COMMAND...
  local name=$1 t=$2 i; shift 2
  for ((i = 0; i < t * 10; i++)); do
    "$@" >/dev/null 2>&1 && { trace "$name: $*: ok"; return 0; }
    live_pid "$name" >/dev/null || fail "$name" "exited while starting"
    sleep 0.1
  done
  fail "$name" "did not become ready in $t s"
}

# ---------------------------------------------------------------- start ----

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
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
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

start_etcd() {
  launch etcd "$ROOT/usr/bin/etcd" "$ROOT/usr/bin/etcd" \
    --name filesync-k8s --data-dir "$D/etcd" \
    --listen-client-urls "http://127.0.0.1:$P_ETCD" --advertise-client-urls "http://127.0.0.1:$P_ETCD" \
    --listen-peer-urls "http://127.0.0.1:$P_ETCD_PEER" --initial-advertise-peer-urls "http://127.0.0.1:$P_ETCD_PEER" \
    --initial-cluster "filesync-k8s=http://127.0.0.1:$P_ETCD_PEER" --initial-cluster-state new \
    --log-level warn --logger zap
  wait_for etcd 30 curl -fsS "http://127.0.0.1:$P_ETCD/health"
}

start_apiserver() {
  launch kube-apiserver "$BIN/kube-apiserver" "$BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$P_ETCD" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$P_APISERVER" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --anonymous-auth=false \
    --service-account-issuer https://kubernetes.default.svc \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --service-cluster-ip-range "$SERVICE_SUBNET" --endpoint-reconciler-type none \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$PKI/ca.crt" \
    --kubelet-preferred-address-types Hostname \
    --allow-privileged=true --profiling=false --v=1
}

start_controllers() {
  kubeconfig "$D/controller-manager.kubeconfig" controller-manager "https://127.0.0.1:$P_APISERVER"
  kubeconfig "$D/scheduler.kubeconfig" scheduler "https://127.0.0.1:$P_APISERVER"
  launch kube-controller-manager "$BIN/kube-controller-manager" "$BIN/kube-controller-manager" \
    --kubeconfig "$D/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$D/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$D/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$P_CONTROLLER_MANAGER" \
    --leader-elect=false --use-service-account-credentials \
    --flex-volume-plugin-dir "$D/flexvolume" --node-monitor-period 1s \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --profiling=false --v=1
  launch kube-scheduler "$BIN/kube-scheduler" "$BIN/kube-scheduler" \
    --kubeconfig "$D/scheduler.kubeconfig" \
    --authentication-kubeconfig "$D/scheduler.kubeconfig" \
    --authorization-kubeconfig "$D/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$P_SCHEDULER" \
    --leader-elect=false --profiling=false --v=1
}

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

start() {
  mkdir -p "$D" "$LOGS" "$PIDS" "$RUN"
  if status >/dev/null 2>&1; then
    echo "export KUBECONFIG=$D/kubeconfig"
    return 0
  fi
  stop >/dev/null 2>&1 || true
  host_tools
  build
  extract
  local node ports
  node=$(node_name)
  certificates "$node"
  read -r P_ETCD P_ETCD_PEER P_APISERVER P_CONTROLLER_MANAGER P_SCHEDULER P_KUBELET P_KUBELET_HEALTHZ \
    <<<"$(free_ports 7)"
  cat > "$D/ports.env" <<EOF
P_ETCD=$P_ETCD
P_ETCD_PEER=$P_ETCD_PEER
P_APISERVER=$P_APISERVER
P_CONTROLLER_MANAGER=$P_CONTROLLER_MANAGER
P_SCHEDULER=$P_SCHEDULER
P_KUBELET=$P_KUBELET
P_KUBELET_HEALTHZ=$P_KUBELET_HEALTHZ
NODE=$node
EOF
  kubeconfig "$D/kubeconfig" admin "https://127.0.0.1:$P_APISERVER"
  write_configs "$node"
  # Nothing of a previous cluster is kept: its objects, pods, logs and the
  # images it pulled (each test run's registry has a port of its own, so
  # kept images would only pile up; image GC is off).
  rm -rf "$D/etcd" "$D/kubelet" "$D/pod-logs" "$D/containerd/root"
  mkdir -p "$D/etcd" "$D/kubelet" "$D/pod-logs" "$D/containerd/root"
  chmod 700 "$D/etcd"
  local t1=$SECONDS
  trace "starting etcd"
  start_etcd
  # The API server takes a few seconds to be ready: containerd starts
  # meanwhile, and the rest as soon as it is.
  start_apiserver
  make_cgroups
  start_containerd
  wait_for kube-apiserver 60 kc get --raw /readyz
  start_controllers
  start_kubelet "$node"
  wait_for kube-controller-manager 30 curl -kfsS "https://127.0.0.1:$P_CONTROLLER_MANAGER/healthz"
  wait_for kube-scheduler 30 curl -kfsS "https://127.0.0.1:$P_SCHEDULER/healthz"
  node_ready() {
    local out
    out=$(kc get node "$node" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}|{.spec.taints}|{.spec.unschedulable}') || return 1
    [ "$out" = "True||" ]
  }
  wait_for kubelet 90 node_ready
  wait_for kube-controller-manager 30 kc -n default get serviceaccount default
  say "ready in $((SECONDS - t1)) s (node $node, apiserver https://127.0.0.1:$P_APISERVER, logs in ${LOGS#"$REPO"/})"
  echo "export KUBECONFIG=$D/kubeconfig"
}

# ----------------------------------------------------------------- stop ----

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

stop_containers() {
  live_pid containerd >/dev/null || return 0
  local ids id
  ids=$(ctr_ -n k8s.io tasks ls -q 2>/dev/null) || return 0
  for id in $ids; do ctr_ -n k8s.io tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
  for id in $ids; do
    local i
    for ((i = 0; i < 50; i++)); do
      ctr_ -n k8s.io tasks delete "$id" >/dev/null 2>&1 && break
      ctr_ -n k8s.io tasks ls -q 2>/dev/null | grep -qxF "$id" || break
      sleep 0.1
    done
  done
  ctr_ -n k8s.io containers ls -q 2>/dev/null | xargs -r "$ROOT/usr/bin/ctr" --address "$RUN/containerd.sock" \
    -n k8s.io containers delete >/dev/null 2>&1 || true
}

stop() {
  local t0=$SECONDS
  stop_pid kube-scheduler
  stop_pid kube-controller-manager
  stop_pid kubelet
  stop_containers
  stop_pid containerd
  stop_pid kube-apiserver
  stop_pid etcd
  # Whatever is left of the pods (a shim, a container process): ours.
  local p i
  for ((i = 0; i < 3; i++)); do
    p=$(stray_pids | sort -u)
    [ -z "$p" ] && break
    kill -KILL $p 2>/dev/null || true
    sleep 0.3
  done
  # The pods' cgroups, deepest first.
  local h
  for h in $(cgroup_hierarchies); do
    [ -d "$h/$CGROUP" ] || continue
    for ((i = 0; i < 20; i++)); do
      find "$h/$CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null || true
      [ -d "$h/$CGROUP" ] || break
      sleep 0.1
    done
    [ -d "$h/$CGROUP" ] && echo "cluster.sh: could not remove the cgroup $h/$CGROUP" >&2
  done
  # The CNI bridge (the pods' veth pairs went with their network namespaces).
  if ip link show "$BRIDGE" >/dev/null 2>&1; then ip link delete "$BRIDGE" type bridge || true; fi
  rm -f "$RUN/containerd.sock" "$RUN/containerd.sock.ttrpc"
  say "stopped in $((SECONDS - t0)) s"
}

status() {
  local c
  for c in "${COMPONENTS[@]}"; do live_pid "$c" >/dev/null || return 1; done
  kc get --raw /readyz >/dev/null 2>&1
}

# One start or stop at a time (fd 9 is closed in every process started).
lock() { mkdir -p "$D" "$PIDS" && exec 9>"$D/lock" && flock 9; }

case "${1:-}" in
  build) lock; build ;;
  start) lock; start ;;
  stop) lock; stop ;;
  env) echo "export KUBECONFIG=$D/kubeconfig" ;;
  status) status ;;
  *) die "usage: scripts/cluster.sh build|start|stop|env|status" ;;
esac
