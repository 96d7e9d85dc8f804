package main

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	pb "istio.io/istio/pkg/test/echo/proto"
)

type probeConfig struct {
	// Targets are the instances to call, each once, in plain gRPC (no TLS, no xDS) at its address.
	Targets []struct {
		Instance string `json:"instance"`
		Address  string `json:"address"`
	} `json:"targets"`
	DeadlineMs int `json:"deadlineMs"`
}

// runProbe calls each target once in plaintext, outside any mesh, and prints one PROBE line per
// target: the gRPC code it got (0 = answered) and the message. A server that demands mTLS fails the
// handshake, which grpc-go reports as UNAVAILABLE.
func runProbe(arg string) error {
	cfg := probeConfig{DeadlineMs: 5000}
	if err := parse(arg, &cfg); err != nil {
		return err
	}
	for _, t := range cfg.Targets {
		code, message := probeOne(t.Address, time.Duration(cfg.DeadlineMs)*time.Millisecond)
		emit("PROBE", map[string]any{"instance": t.Instance, "address": t.Address, "code": code, "message": message})
	}
	return nil
}

func probeOne(address string, deadline time.Duration) (int, string) {
	conn, err := grpc.NewClient(address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return int(status.Convert(err).Code()), err.Error()
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	resp, err := pb.NewEchoTestServiceClient(conn).Echo(ctx, &pb.EchoRequest{Message: "meshcheck probe"})
	if err != nil {
		st := status.Convert(err)
		return int(st.Code()), st.Message()
	}
	return 0, resp.GetMessage()
}
