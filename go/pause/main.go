// meshcheck-pause is the sandbox (pause) container of the real node's pods: it holds the pod's
// namespaces open and does nothing else. As the pod's first process it also reaps the zombies of
// processes whose parents exited (the pod shares its PID namespace only when asked to, but then it is
// PID 1). It exits on SIGINT or SIGTERM, which is how the kubelet stops a sandbox.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	children := make(chan os.Signal, 1)
	signal.Notify(children, syscall.SIGCHLD)
	for {
		select {
		case <-stop:
			return
		case <-children:
			for {
				var status syscall.WaitStatus
				pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
				if pid <= 0 || err != nil {
					break
				}
			}
		}
	}
}
