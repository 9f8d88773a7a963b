// Package executor: building from a Dockerfile is not supported here; see
// ../../README.md.
package executor

import (
	"errors"

	"github.com/google/go-containerregistry/pkg/v1"
	"github.com/osscontainertools/kaniko/pkg/config"
)

// ErrUnsupported is returned for every Dockerfile build.
var ErrUnsupported = errors.New("image extensions (Dockerfiles) are not supported by this lifecycle build: kaniko is unavailable")

func DoBuild(_ *config.KanikoOptions) (v1.Image, error) {
	return nil, ErrUnsupported
}
