// Command meshcheck-proxyless holds meshcheck's programs that must link grpc-go or istio, for the
// Istio tier (real istiod, Istio's proxyless gRPC data plane):
//
//	meshcheck-proxyless echo  CONFIG-JSON   an xDS-enabled gRPC echo workload
//	meshcheck-proxyless load  CONFIG-JSON   an open-model load client (xDS or plain gRPC)
//	meshcheck-proxyless agent               the same client kept running: one load per stdin line
//	meshcheck-proxyless certs CONFIG-JSON   certificates from istiod's CA (CSR with a ServiceAccount token)
//	meshcheck-proxyless xds   CONFIG-JSON   an ADS watcher that prints what istiod serves to gRPC clients
//	meshcheck-proxyless probe CONFIG-JSON   one plaintext call to each target, outside any mesh
//	meshcheck-proxyless idle                waits for SIGTERM: a caller's pod, whose clients are started in it
//
// Every program takes one JSON argument, writes machine-readable lines on stdout and diagnostics on
// stderr. Servers print `READY {json}` once they serve. The xDS bootstrap comes from GRPC_XDS_BOOTSTRAP.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" {
		fmt.Fprintln(os.Stderr, "usage: meshcheck-proxyless echo|load|agent|certs|xds|probe|idle [CONFIG-JSON]")
		os.Exit(2)
	}
	arg := "{}"
	if len(os.Args) > 2 {
		arg = os.Args[2]
	}
	var err error
	switch os.Args[1] {
	case "echo":
		err = runEcho(arg)
	case "load":
		err = runLoad(arg)
	case "agent":
		err = runAgent()
	case "certs":
		err = runCerts(arg)
	case "xds":
		err = runXds(arg)
	case "probe":
		err = runProbe(arg)
	case "idle":
		err = runIdle()
	case "version":
		fmt.Println(version())
	default:
		err = fmt.Errorf("unknown program %q (echo, load, agent, certs, xds, probe, idle)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "meshcheck-proxyless %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// parse decodes the JSON argument into v, refusing unknown fields so a typo fails loudly.
func parse(arg string, v any) error {
	dec := json.NewDecoder(strings.NewReader(arg))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// emit writes one line: a tag and a JSON body.
func emit(tag string, v any) {
	b, _ := json.Marshal(v)
	fmt.Printf("%s %s\n", tag, b)
}

// runIdle holds a caller's pod open without an xDS client of its own: Istio's agent serves one xDS
// stream per pod, so the clients meshcheck starts in the pod (pods/exec) must be its only ones.
func runIdle() error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	return nil
}
