// Command pause is the process of every pod's sandbox ("infra") container in
// the project's own cluster (scripts/cluster.sh packs it, alone, as the
// image containerd's CRI plugin starts for each pod, `sandbox_image`). It
// holds the pod's namespaces open and does nothing else: as PID 1 of a
// shared PID namespace it reaps orphaned children, and it exits 0 on
// SIGINT or SIGTERM (a PID 1 without handlers would ignore both).
// Built static (CGO_ENABLED=0) so the image needs no libc.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		os.Stdout.WriteString("pause (skaffold-filesync)\n")
		return
	}
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
