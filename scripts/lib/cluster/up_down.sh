#!/usr/bin/env bash
# Sourced by scripts/cluster.sh (its variables and helpers): start, stop and status of the
# whole cluster.

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
