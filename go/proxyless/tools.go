//go:build tools

// The Istio programs scripts/build-istio.sh builds from this module (pilot-discovery, pilot-agent) are
// required here so their dependencies stay in go.mod and go.sum (go mod tidy keeps what this file imports).
package main

import (
	_ "istio.io/istio/pilot/cmd/pilot-agent/app"
	_ "istio.io/istio/pilot/cmd/pilot-discovery/app"
)
