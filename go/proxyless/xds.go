package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

const (
	ldsType = "type.googleapis.com/envoy.config.listener.v3.Listener"
	rdsType = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
	cdsType = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
	edsType = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
)

type xdsConfig struct {
	// Server is istiod's plaintext xDS address.
	Server string `json:"server"`
	// One ADS stream per node: a gRPC client node subscribes to outbound listeners
	// (svc.ns.svc.cluster.local:port), a server node to its inbound listener.
	Nodes []struct {
		Label     string            `json:"label"`
		ID        string            `json:"id"`
		Metadata  map[string]string `json:"metadata"`
		Listeners []string          `json:"listeners"`
	} `json:"nodes"`
}

// runXds keeps one ADS stream per node open and prints every response, decoded, as a line
// `XDS {"node","type","version","resources":[...]}`; it follows LDS -> RDS -> CDS -> EDS names
// as a gRPC client does, and ACKs each response. It is how meshcheck sees what istiod serves.
func runXds(arg string) error {
	var cfg xdsConfig
	if err := parse(arg, &cfg); err != nil {
		return err
	}
	conn, err := grpc.NewClient(cfg.Server, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	var out sync.Mutex
	for _, n := range cfg.Nodes {
		meta := map[string]any{}
		for k, v := range n.Metadata {
			meta[k] = v
		}
		md, err := structpb.NewStruct(meta)
		if err != nil {
			return err
		}
		node := &core.Node{Id: n.ID, Metadata: md}
		w := &watch{label: n.Label, node: node, names: map[string]map[string]bool{ldsType: set(n.Listeners), rdsType: {}, cdsType: {}, edsType: {}}, out: &out}
		// A stream that ends (istiod stopped or restarted) is opened again, asking for every name known.
		go func() {
			for {
				err := w.run(conn)
				fmt.Fprintf(os.Stderr, "node %s: stream ended: %v; reconnecting\n", w.label, err)
				time.Sleep(200 * time.Millisecond)
			}
		}()
	}
	emit("READY", map[string]any{"pid": os.Getpid()})
	// meshcheck reads this process's output for as long as it needs it: stdin closes when it goes away.
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	select {}
}

type watch struct {
	label  string
	node   *core.Node
	names  map[string]map[string]bool
	stream discovery.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	out    *sync.Mutex
}

func set(xs []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func (w *watch) request(typeURL, version, nonce string) error {
	var names []string
	for n := range w.names[typeURL] {
		names = append(names, n)
	}
	sort.Strings(names)
	return w.stream.Send(&discovery.DiscoveryRequest{Node: w.node, TypeUrl: typeURL, ResourceNames: names, VersionInfo: version, ResponseNonce: nonce})
}

func (w *watch) run(conn *grpc.ClientConn) error {
	var err error
	w.stream, err = discovery.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(context.Background())
	if err != nil {
		return err
	}
	for _, t := range []string{ldsType, rdsType, cdsType, edsType} {
		if len(w.names[t]) > 0 {
			if err := w.request(t, "", ""); err != nil {
				return err
			}
		}
	}
	for {
		resp, err := w.stream.Recv()
		if err != nil {
			return fmt.Errorf("node %s: %w", w.label, err)
		}
		var decoded []json.RawMessage
		grown := map[string]bool{}
		for _, any := range resp.Resources {
			b, err := protojson.Marshal(any)
			if err != nil {
				b, _ = json.Marshal(map[string]string{"@type": any.TypeUrl, "name": nameOf(resp.TypeUrl, any.Value), "error": err.Error()})
			}
			decoded = append(decoded, b)
			for _, r := range follow(resp.TypeUrl, any.Value) {
				if !w.names[r.typeURL][r.name] {
					w.names[r.typeURL][r.name] = true
					grown[r.typeURL] = true
				}
			}
		}
		w.out.Lock()
		emit("XDS", map[string]any{"node": w.label, "type": resp.TypeUrl, "version": resp.VersionInfo, "resources": decoded})
		w.out.Unlock()
		if err := w.request(resp.TypeUrl, resp.VersionInfo, resp.Nonce); err != nil {
			return err
		}
		for t := range grown {
			if err := w.request(t, "", ""); err != nil {
				return err
			}
		}
	}
}

// ref is a resource name another resource refers to, with its type.
type ref struct{ typeURL, name string }

// follow gives the names a resource refers to: LDS -> route configs, RDS -> clusters, CDS -> EDS.
func follow(typeURL string, raw []byte) []ref {
	var refs []ref
	add := func(t, n string) {
		if n != "" {
			refs = append(refs, ref{t, n})
		}
	}
	switch typeURL {
	case ldsType:
		var l listener.Listener
		if proto.Unmarshal(raw, &l) != nil || l.ApiListener == nil {
			return nil
		}
		var m hcm.HttpConnectionManager
		if l.ApiListener.ApiListener.UnmarshalTo(&m) == nil {
			if r := m.GetRds(); r != nil {
				add(rdsType, r.RouteConfigName)
			}
		}
	case rdsType:
		var rc route.RouteConfiguration
		if proto.Unmarshal(raw, &rc) != nil {
			return nil
		}
		for _, vh := range rc.VirtualHosts {
			for _, r := range vh.Routes {
				if a := r.GetRoute(); a != nil {
					add(cdsType, a.GetCluster())
					for _, c := range a.GetWeightedClusters().GetClusters() {
						add(cdsType, c.Name)
					}
				}
			}
		}
	case cdsType:
		var c cluster.Cluster
		if proto.Unmarshal(raw, &c) != nil {
			return nil
		}
		if c.GetType() == cluster.Cluster_EDS {
			n := c.GetEdsClusterConfig().GetServiceName()
			if n == "" {
				n = c.Name
			}
			add(edsType, n)
		}
	}
	return refs
}

// nameOf is a resource's name when it cannot be printed whole (a type inside it is not registered).
func nameOf(typeURL string, raw []byte) string {
	switch typeURL {
	case ldsType:
		var l listener.Listener
		_ = proto.Unmarshal(raw, &l)
		return l.Name
	case rdsType:
		var r route.RouteConfiguration
		_ = proto.Unmarshal(raw, &r)
		return r.Name
	case cdsType:
		var c cluster.Cluster
		_ = proto.Unmarshal(raw, &c)
		return c.Name
	}
	return ""
}
