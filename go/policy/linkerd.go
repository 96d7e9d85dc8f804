package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/linkerd/linkerd2-proxy-api/go/destination"
	"github.com/linkerd/linkerd2-proxy-api/go/inbound"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
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
	return askEach(c.Addr, c.TimeoutMs, len(c.Ports), func(ctx context.Context, conn *grpc.ClientConn, i int) (proto.Message, error) {
		return inbound.NewInboundServerPoliciesClient(conn).GetPort(ctx, &inbound.PortSpec{Workload: c.Ports[i].Workload, Port: c.Ports[i].Port})
	}, func(i int, answer json.RawMessage, code, msg string) any {
		return inboundLine{Workload: c.Ports[i].Workload, Port: c.Ports[i].Port, Server: answer, Code: code, Error: msg}
	})
}

// askEach dials addr (plaintext gRPC), asks each of n questions with its own deadline (5 s unless
// timeoutMs says), and writes line(...) for each as one JSON line on stdout: the answer as protobuf
// JSON, or the gRPC status code and message.
func askEach(addr string, timeoutMs, n int, ask func(ctx context.Context, conn *grpc.ClientConn, i int) (proto.Message, error), line func(i int, answer json.RawMessage, code, msg string) any) error {
	if timeoutMs <= 0 {
		timeoutMs = 5000
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	out := json.NewEncoder(os.Stdout)
	for i := 0; i < n; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(timeoutMs)*time.Millisecond)
		m, err := ask(ctx, conn, i)
		cancel()
		var raw json.RawMessage
		var code, msg string
		if err != nil {
			st := status.Convert(err)
			code, msg = st.Code().String(), st.Message()
		} else if raw, err = protojson.Marshal(m); err != nil {
			return err
		}
		if err := out.Encode(line(i, raw, code, msg)); err != nil {
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
	destination.RegisterDestinationServer(s, &standInDestination{file: c.File})
	ready, _ := json.Marshal(map[string]string{"addr": lis.Addr().String()})
	fmt.Printf("READY %s\n", ready)
	return s.Serve(lis)
}

type profileConfig struct {
	// Addr is the destination controller's gRPC address (its port 8086, through a port-forward).
	Addr string `json:"addr"`
	// Paths are "HOST:PORT" as a proxy asks for them, e.g. reviews.NS.svc.cluster.local:9080.
	Paths []string `json:"paths"`
	// ContextToken is what a proxy of that namespace sends: {"ns":"NS"}.
	ContextToken string `json:"contextToken"`
	TimeoutMs    int    `json:"timeoutMs"`
}

// One line per path: the first DestinationProfile the controller streams (protobuf JSON), or the gRPC error.
type profileLine struct {
	Path    string          `json:"path"`
	Profile json.RawMessage `json:"profile,omitempty"`
	Code    string          `json:"code,omitempty"`
	Error   string          `json:"error,omitempty"`
}

func runLinkerdProfile(arg string) error {
	var c profileConfig
	if err := parse(arg, &c); err != nil {
		return err
	}
	if c.Addr == "" || len(c.Paths) == 0 {
		return fmt.Errorf("config: addr and paths are required")
	}
	return askEach(c.Addr, c.TimeoutMs, len(c.Paths), func(ctx context.Context, conn *grpc.ClientConn, i int) (proto.Message, error) {
		stream, err := destination.NewDestinationClient(conn).GetProfile(ctx, &destination.GetDestination{Scheme: "k8s", Path: c.Paths[i], ContextToken: c.ContextToken})
		if err != nil {
			return nil, err
		}
		return stream.Recv()
	}, func(i int, answer json.RawMessage, code, msg string) any {
		return profileLine{Path: c.Paths[i], Profile: answer, Code: code, Error: msg}
	})
}

// The stand-in's destination side: GetProfile answers what the file holds under "profile:HOST"
// (one message, then the stream stays open as the controller's does), else a profile with only the
// name, as for a service without a ServiceProfile.
type standInDestination struct {
	destination.UnimplementedDestinationServer
	file string
}

func (s *standInDestination) GetProfile(req *destination.GetDestination, stream destination.Destination_GetProfileServer) error {
	host := req.Path
	if i := strings.LastIndex(host, ":"); i >= 0 {
		host = host[:i]
	}
	p := &destination.DestinationProfile{FullyQualifiedName: host}
	raw, err := os.ReadFile(s.file)
	if err != nil {
		return status.Errorf(codes.Unavailable, "stand-in: %v", err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		return status.Errorf(codes.Internal, "stand-in: %s: %v", s.file, err)
	}
	if one, ok := all["profile:"+host]; ok {
		if err := protojson.Unmarshal(one, p); err != nil {
			return status.Errorf(codes.Internal, "stand-in: %s: %v", s.file, err)
		}
	}
	if err := stream.Send(p); err != nil {
		return err
	}
	<-stream.Context().Done()
	return nil
}
