// Command meshcheck-policy reads what a mesh's policy controller serves, for the kube target's
// "in effect" waits where the mesh writes no status on its objects. It links the mesh's own API
// definitions (no hand-written protocol):
//
//	meshcheck-policy linkerd-inbound CONFIG-JSON
//	    asks Linkerd's policy controller (InboundServerPolicies.GetPort, the API the proxies watch)
//	    for the inbound policy of each workload port; one JSON line per port on stdout.
//	meshcheck-policy linkerd-profile CONFIG-JSON
//	    asks Linkerd's destination controller (Destination.GetProfile, as a proxy does) for the
//	    profile of each HOST:PORT, for ServiceProfiles (Linkerd before 2.16); one JSON line per path.
//	meshcheck-policy linkerd-stand-in CONFIG-JSON
//	    a STAND-IN for Linkerd's policy and destination controllers, for meshcheck's own tests only
//	    (the policy controller is a Rust program that cannot be built here): it answers GetPort and
//	    GetProfile with what a JSON file holds, read again on every call. It prints
//	    `READY {"addr":...}` once it serves.
//
// Every program takes one JSON argument, writes machine-readable lines on stdout and diagnostics
// on stderr.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" {
		fmt.Fprintln(os.Stderr, "usage: meshcheck-policy linkerd-inbound|linkerd-profile|linkerd-stand-in CONFIG-JSON")
		os.Exit(2)
	}
	arg := "{}"
	if len(os.Args) > 2 {
		arg = os.Args[2]
	}
	var err error
	switch os.Args[1] {
	case "linkerd-inbound":
		err = runLinkerdInbound(arg)
	case "linkerd-profile":
		err = runLinkerdProfile(arg)
	case "linkerd-stand-in":
		err = runLinkerdStandIn(arg)
	default:
		err = fmt.Errorf("unknown program %q (linkerd-inbound, linkerd-profile, linkerd-stand-in)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "meshcheck-policy %s: %v\n", os.Args[1], err)
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
