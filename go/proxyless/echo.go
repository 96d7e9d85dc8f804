package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	xdscreds "google.golang.org/grpc/credentials/xds"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/xds"
	pb "istio.io/istio/pkg/test/echo/proto"
)

type echoConfig struct {
	Service  string `json:"service"`
	Version  string `json:"version"`
	Instance string `json:"instance"`
	// Address is host:port the workload serves on (its own loopback address and the service port).
	Address string `json:"address"`
	// Plain is host:port of a second listener of the same workload in plain gRPC, outside the mesh
	// (no xDS, no TLS, no policy): the no-mesh baseline of an overhead run. Port 0 = any.
	Plain string `json:"plain"`
	// Control is host:port of the control listener (behaviour, counts, readiness); port 0 = any, on the
	// address's host when empty. In a pod it is a fixed port meshcheck reaches by port-forward.
	Control string `json:"control"`
}

// behaviour is what meshcheck tells a workload to do: fail every call with a gRPC code, or be slow.
type behaviour struct {
	Code    uint32 `json:"code,omitempty"`
	DelayMs int    `json:"delayMs,omitempty"`
}

type echoServer struct {
	pb.UnimplementedEchoTestServiceServer
	cfg      echoConfig
	mu       sync.Mutex
	b        behaviour
	serving  atomic.Bool
	served   atomic.Int64
	failed   atomic.Int64
	inFlight atomic.Int64
	maxIn    atomic.Int64
}

// Reply is the echo body: who answered, and the caller's identity from its certificate (empty on plaintext).
type reply struct {
	Service  string `json:"service"`
	Version  string `json:"version"`
	Instance string `json:"instance"`
	Caller   string `json:"caller"`
}

func (s *echoServer) Echo(ctx context.Context, _ *pb.EchoRequest) (*pb.EchoResponse, error) {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for m := s.maxIn.Load(); n > m && !s.maxIn.CompareAndSwap(m, n); m = s.maxIn.Load() {
	}
	s.served.Add(1)
	s.mu.Lock()
	b := s.b
	s.mu.Unlock()
	if b.DelayMs > 0 {
		select {
		case <-time.After(time.Duration(b.DelayMs) * time.Millisecond):
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
	if b.Code != 0 {
		s.failed.Add(1)
		return nil, status.Errorf(codes.Code(b.Code), "meshcheck: instance %s told to fail", s.cfg.Instance)
	}
	body, _ := json.Marshal(reply{Service: s.cfg.Service, Version: s.cfg.Version, Instance: s.cfg.Instance, Caller: callerOf(ctx)})
	return &pb.EchoResponse{Message: string(body)}, nil
}

// callerOf is the SPIFFE ID in the verified client certificate of an mTLS call.
func callerOf(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return ""
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.PeerCertificates) == 0 {
		return ""
	}
	for _, u := range info.State.PeerCertificates[0].URIs {
		if u.Scheme == "spiffe" {
			return u.String()
		}
	}
	return ""
}

func runEcho(arg string) error {
	var cfg echoConfig
	if err := parse(arg, &cfg); err != nil {
		return err
	}
	if cfg.Address == "" || cfg.Service == "" {
		return fmt.Errorf("config needs address and service")
	}
	s := &echoServer{cfg: cfg}
	lis, err := net.Listen("tcp", cfg.Address)
	if err != nil {
		return err
	}
	// The control listener: plain HTTP on the same address, a port of its own.
	if cfg.Control == "" {
		host, _, _ := net.SplitHostPort(cfg.Address)
		cfg.Control = net.JoinHostPort(host, "0")
	}
	ctl, err := net.Listen("tcp", cfg.Control)
	if err != nil {
		return err
	}
	go http.Serve(ctl, s.control())

	// Istio's xDS server credentials: mTLS when istiod's inbound listener asks for it, plaintext
	// otherwise. The server waits for its inbound listener from istiod before it serves.
	creds, err := xdscreds.NewServerCredentials(xdscreds.ServerOptions{FallbackCreds: insecure.NewCredentials()})
	if err != nil {
		return err
	}
	serving := make(chan struct{}, 1)
	srv, err := xds.NewGRPCServer(grpc.Creds(creds), xds.ServingModeCallback(func(addr net.Addr, a xds.ServingModeChangeArgs) {
		fmt.Fprintf(os.Stderr, "serving mode of %s: %v (%v)\n", addr, a.Mode, a.Err)
		if a.Mode == connectivity.ServingModeServing {
			select {
			case serving <- struct{}{}:
			default:
			}
		}
	}))
	if err != nil {
		return err
	}
	pb.RegisterEchoTestServiceServer(srv, s)
	go func() {
		if err := srv.Serve(lis); err != nil {
			fmt.Fprintf(os.Stderr, "serve: %v\n", err)
			os.Exit(1)
		}
	}()
	plainAddr := ""
	var plain *grpc.Server
	if cfg.Plain != "" {
		pl, err := net.Listen("tcp", cfg.Plain)
		if err != nil {
			return err
		}
		plainAddr = pl.Addr().String()
		plain = grpc.NewServer(grpc.Creds(insecure.NewCredentials()))
		pb.RegisterEchoTestServiceServer(plain, s)
		go plain.Serve(pl)
	}
	select {
	case <-serving:
	case <-time.After(30 * time.Second):
		return fmt.Errorf("istiod sent no inbound listener for %s within 30s", cfg.Address)
	}
	s.serving.Store(true)
	emit("READY", map[string]any{"pid": os.Getpid(), "address": cfg.Address, "control": ctl.Addr().String(), "plain": plainAddr})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	signal.Ignore(syscall.SIGINT) // the parent owns shutdown
	<-sig
	srv.Stop()
	if plain != nil {
		plain.Stop()
	}
	return nil
}

// control serves meshcheck's controls: GET/POST /behaviour (what to do; counts of calls served and
// failed), and GET /healthz (200 once the xDS server serves: a pod's readiness).
func (s *echoServer) control() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.serving.Load() {
			http.Error(w, "waiting for the inbound listener from istiod", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/behaviour", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			var b behaviour
			if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			s.mu.Lock()
			s.b = b
			s.mu.Unlock()
			if b.Code == 0 && b.DelayMs == 0 {
				s.failed.Store(0)
				s.maxIn.Store(0)
			}
		}
		s.mu.Lock()
		b := s.b
		s.mu.Unlock()
		w.Header().Set("content-type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"behaviour": b, "served": s.served.Load(), "failed": s.failed.Load(), "maxInFlight": s.maxIn.Load()})
	})
	return mux
}

// version names the grpc-go and istio modules this binary links.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	var parts []string
	for _, d := range info.Deps {
		if d.Path == "google.golang.org/grpc" || d.Path == "istio.io/istio" {
			parts = append(parts, d.Path+"@"+d.Version)
		}
	}
	return strings.Join(parts, " ")
}
