//go:build tools

// Package tools pins the Kubernetes v1.33.13 components the project's own
// single-node cluster runs (scripts/cluster.sh): the API server, the kubelet,
// the controller manager, the scheduler and kubectl. Debian ships none of
// them, and the machine's own kubectl is a cloud-SDK dispatcher that CI
// cannot count on. `go install` refuses k8s.io/kubernetes (its go.mod
// replaces its staging modules), so this module repeats those replaces (see
// go.mod) and scripts/cluster.sh runs `go build` here. v1.33 because the
// machines are cgroup v1, which later kubelets refuse or deprecate.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
