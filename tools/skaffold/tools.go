//go:build tools

// Package tools pins the real clients the test suite and the demo drive:
// the Skaffold v2.24.0 CLI and the pack v0.40.6 CLI (pack's main package is
// its module root). `go install` refuses both: Skaffold's go.mod carries
// replace directives, which only a main module may have, so this module
// repeats them (see go.mod) and scripts/setup.sh runs `go build` here.
package tools

import (
	_ "github.com/GoogleContainerTools/skaffold/v2/cmd/skaffold"
	_ "github.com/buildpacks/pack"
)
