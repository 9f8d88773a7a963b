#!/usr/bin/env bash
# Sourced by scripts/cluster.sh (its variables and helpers): free ports on 127.0.0.1, the
# cluster's certificates and kubeconfigs.

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
