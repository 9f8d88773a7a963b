#!/usr/bin/env bash
# Sourced by scripts/cluster.sh (its variables and helpers): etcd, kube-apiserver, the
# controller manager and the scheduler.

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
