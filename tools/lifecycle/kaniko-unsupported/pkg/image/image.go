// Package image holds the hook the lifecycle overrides; see ../../README.md.
package image

import (
	"github.com/google/go-containerregistry/pkg/v1"
	"github.com/osscontainertools/kaniko/pkg/config"
)

// RetrieveRemoteImage is replaced by the lifecycle before any build.
var RetrieveRemoteImage func(image string, opts config.RegistryOptions, customPlatform string) (v1.Image, error)
