package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/linkerd/linkerd2-proxy-api/go/inbound"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
)

// A workload port as the policy controller names it: workload "NAMESPACE:POD".
type portSpec struct {
	Workload string `json:"workload"`
	Port     uint32 `json:"port"`
}

type inboundConfig struct {
	// Addr is the policy controller's gRPC address (host:port), plaintext as `linkerd diagnostics
	// policy` reaches it through a port-forward to the destination pod's port 8090.
	Addr      string     `json:"addr"`
	Ports     []portSpec `json:"ports"`
	TimeoutMs int        `json:"timeoutMs"`
}

// One line per port: the Server as the controller serves it (protobuf JSON), or the gRPC error.
type inboundLine struct {
	Workload string          `json:"workload"`
	Port     uint32          `json:"port"`
	Server   json.RawMessage `json:"server,omitempty"`
	Code     string          `json:"code,omitempty"`
	Error    string          `json:"error,omitempty"`
}

func runLinkerdInbound(arg string) error {
	var c inboundConfig
	if err := parse(arg, &c); err != nil {
		return err
	}
	if c.Addr == "" || len(c.Ports) == 0 {
		return fmt.Errorf("config: addr and ports are required")
	}
	if c.TimeoutMs <= 0 {
		c.TimeoutMs = 5000
	}
	conn, err := grpc.NewClient(c.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := inbound.NewInboundServerPoliciesClient(conn)
	out := json.NewEncoder(os.Stdout)
	for _, p := range c.Ports {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(c.TimeoutMs)*time.Millisecond)
		srv, err := client.GetPort(ctx, &inbound.PortSpec{Workload: p.Workload, Port: p.Port})
		cancel()
		line := inboundLine{Workload: p.Workload, Port: p.Port}
		if err != nil {
			st := status.Convert(err)
			line.Code, line.Error = st.Code().String(), st.Message()
		} else {
			b, err := protojson.Marshal(srv)
			if err != nil {
				return err
			}
			line.Server = b
		}
		if err := out.Encode(line); err != nil {
			return err
		}
	}
	return nil
}

type standInConfig struct {
	Listen string `json:"listen"`
	// File holds {"NAMESPACE:POD:PORT": Server (protobuf JSON)}; a port not in it is NotFound, as
	// the real controller answers for a pod it has not indexed.
	File string `json:"file"`
}

type standIn struct {
	inbound.UnimplementedInboundServerPoliciesServer
	file string
}

func (s *standIn) GetPort(_ context.Context, p *inbound.PortSpec) (*inbound.Server, error) {
	raw, err := os.ReadFile(s.file)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "stand-in: %v", err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, status.Errorf(codes.Internal, "stand-in: %s: %v", s.file, err)
	}
	one, ok := all[fmt.Sprintf("%s:%d", p.Workload, p.Port)]
	if !ok {
		return nil, status.Error(codes.NotFound, "unknown server")
	}
	var srv inbound.Server
	if err := protojson.Unmarshal(one, &srv); err != nil {
		return nil, status.Errorf(codes.Internal, "stand-in: %s: %v", s.file, err)
	}
	return &srv, nil
}

func runLinkerdStandIn(arg string) error {
	var c standInConfig
	if err := parse(arg, &c); err != nil {
		return err
	}
	if c.File == "" {
		return fmt.Errorf("config: file is required")
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:0"
	}
	lis, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return err
	}
	s := grpc.NewServer()
	inbound.RegisterInboundServerPoliciesServer(s, &standIn{file: c.File})
	ready, _ := json.Marshal(map[string]string{"addr": lis.Addr().String()})
	fmt.Printf("READY %s\n", ready)
	return s.Serve(lis)
}
