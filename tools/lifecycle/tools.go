//go:build tools

// Package tools pins the CNB lifecycle this project tests against; build it
// with `go build github.com/buildpacks/lifecycle/cmd/lifecycle` (and
// cmd/launcher) from this directory. See kaniko-unsupported/README.md.
package tools

import (
	_ "github.com/buildpacks/lifecycle/cmd/launcher"
	_ "github.com/buildpacks/lifecycle/cmd/lifecycle"
)
