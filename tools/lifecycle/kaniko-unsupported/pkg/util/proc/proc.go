// Package proc reports no container runtime, so the lifecycle never
// believes it can extend images; see ../../../README.md.
package proc

type ContainerRuntime string

const RuntimeNotFound ContainerRuntime = "not-found"

func GetContainerRuntime(_, _ int) ContainerRuntime {
	return RuntimeNotFound
}
