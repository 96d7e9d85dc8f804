package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	xdscreds "google.golang.org/grpc/credentials/xds"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	_ "google.golang.org/grpc/xds" // the xds:/// resolver and balancers
	pb "istio.io/istio/pkg/test/echo/proto"
)

type loadConfig struct {
	// Target is "xds:///svc.ns.svc.cluster.local:port" (through the mesh) or "host:port" (plain gRPC).
	Target string `json:"target"`
	// RPS is the constant arrival rate; 0 sends every request at once (a concurrent burst).
	RPS         float64           `json:"rps"`
	Requests    int               `json:"requests"`
	MaxInFlight int               `json:"maxInFlight"`
	Headers     map[string]string `json:"headers"`
	// DeadlineMs is the client's own deadline per call (a hung call ends DEADLINE_EXCEEDED).
	DeadlineMs int `json:"deadlineMs"`
	// ReadyWaitMs bounds the wait for the channel to connect before the first arrival.
	ReadyWaitMs int `json:"readyWaitMs"`
	// Detached runs the load to its end whatever stdin does: in a pod, stdin is closed from the start.
	Detached bool `json:"detached"`
	// QuitURL is POSTed once the load is done (best effort): the pod's agent exits with it, so a Job's
	// pod can end.
	QuitURL string `json:"quitUrl"`
}

// One arrival: [seq, lagUs, latencyUs, code, replyJSON-or-error-message]; code -1 = dropped. Latency counts from
// the intended send time, so a late send is not hidden (open model).
type result [5]any

// runLoad runs one load (CONFIG-JSON). A line on stdin, or stdin closing, stops it early.
func runLoad(arg string) error {
	cfg, err := loadConfigOf(arg)
	if err != nil {
		return err
	}
	stop := &atomic.Bool{}
	if !cfg.Detached {
		lines := stdinLines()
		go func() {
			<-lines
			stop.Store(true)
		}()
	}
	done, err := runOne(&channels{}, cfg, stop)
	if cfg.QuitURL != "" {
		quit(cfg.QuitURL)
	}
	if err != nil {
		return err
	}
	emit("DONE", done)
	return nil
}

// quit POSTs to url and ignores the answer: a sidecar's agent told to exit.
func quit(url string) {
	c := http.Client{Timeout: 2 * time.Second}
	if r, err := c.Post(url, "text/plain", nil); err == nil {
		r.Body.Close()
	}
}

// runAgent is a long-lived client: it keeps its channels (and so the xDS config they were given) from
// one load to the next, as a running client's sidecar would. Each stdin line is a load CONFIG-JSON, or,
// while a load runs, a request to stop it. `{"connect":[targets]}` opens channels without a call.
// It exits when stdin closes.
func runAgent() error {
	ch := &channels{}
	lines := stdinLines()
	emit("READY", map[string]any{"pid": os.Getpid()})
	for line := range lines {
		var c struct {
			Connect []string `json:"connect"`
		}
		if json.Unmarshal([]byte(line), &c) == nil && c.Connect != nil {
			for _, t := range c.Connect {
				conn, _, err := ch.get(t, 5000)
				if err != nil {
					return err
				}
				out := map[string]any{"target": t, "state": conn.GetState().String()}
				if conn.GetState() != connectivity.Ready {
					// Why, in the words of a call: the channel's state alone does not say.
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
					_, err := pb.NewEchoTestServiceClient(conn).Echo(ctx, &pb.EchoRequest{Message: "meshcheck connect"})
					cancel()
					if err != nil {
						out["error"] = status.Convert(err).Message()
					}
				}
				emit("CONNECTED", out)
			}
			continue
		}
		cfg, err := loadConfigOf(line)
		if err != nil {
			return err
		}
		stop := &atomic.Bool{}
		done := make(chan struct{})
		go func() {
			select {
			case _, ok := <-lines:
				stop.Store(true)
				if !ok {
					os.Exit(0)
				}
			case <-done:
			}
		}()
		summary, err := runOne(ch, cfg, stop)
		// Stop listening for a stop request before DONE: the next line is the next load.
		close(done)
		if err != nil {
			return err
		}
		emit("DONE", summary)
	}
	return nil
}

func loadConfigOf(arg string) (loadConfig, error) {
	cfg := loadConfig{MaxInFlight: 512, DeadlineMs: 30_000, ReadyWaitMs: 5000}
	if err := parse(arg, &cfg); err != nil {
		return cfg, err
	}
	if cfg.Target == "" || cfg.Requests <= 0 {
		return cfg, fmt.Errorf("config needs target and requests > 0")
	}
	return cfg, nil
}

// stdinLines delivers stdin line by line; the channel closes when stdin does (meshcheck went away).
func stdinLines() <-chan string {
	out := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			out <- sc.Text()
		}
		close(out)
	}()
	return out
}

// channels holds one connected ClientConn per target.
type channels struct {
	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
}

// get returns the channel to a target, connected (or failed to connect) within readyWaitMs, and how
// long that wait took: the first arrivals should not pay for the xDS fetch and the handshakes.
func (c *channels) get(target string, readyWaitMs int) (*grpc.ClientConn, float64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if conn, ok := c.conns[target]; ok {
		return conn, 0, nil
	}
	var opts []grpc.DialOption
	if strings.HasPrefix(target, "xds:///") {
		creds, err := xdscreds.NewClientCredentials(xdscreds.ClientOptions{FallbackCreds: insecure.NewCredentials()})
		if err != nil {
			return nil, 0, err
		}
		opts = append(opts, grpc.WithTransportCredentials(creds))
	} else {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	conn, err := grpc.NewClient(target, opts...)
	if err != nil {
		return nil, 0, err
	}
	start := time.Now()
	conn.Connect()
	wait, cancel := context.WithTimeout(context.Background(), time.Duration(readyWaitMs)*time.Millisecond)
	for st := conn.GetState(); st != connectivity.Ready && st != connectivity.TransientFailure; st = conn.GetState() {
		if !conn.WaitForStateChange(wait, st) {
			break
		}
	}
	cancel()
	if c.conns == nil {
		c.conns = map[string]*grpc.ClientConn{}
	}
	c.conns[target] = conn
	return conn, float64(time.Since(start).Microseconds()) / 1000, nil
}

// runOne sends one load on a channel, prints an R line per arrival, and returns the DONE summary.
func runOne(ch *channels, cfg loadConfig, stop *atomic.Bool) (map[string]any, error) {
	conn, readyMs, err := ch.get(cfg.Target, cfg.ReadyWaitMs)
	if err != nil {
		return nil, err
	}
	client := pb.NewEchoTestServiceClient(conn)

	out := make(chan result, 4096)
	var printed sync.WaitGroup
	printed.Add(1)
	go func() {
		defer printed.Done()
		w := bufio.NewWriterSize(os.Stdout, 1<<16)
		last := time.Now()
		for r := range out {
			b, _ := json.Marshal(r)
			w.WriteString("R ")
			w.Write(b)
			w.WriteByte('\n')
			// Flush often enough for meshcheck's progress and early stop to follow the load.
			if time.Since(last) > 20*time.Millisecond || len(out) == 0 {
				w.Flush()
				last = time.Now()
			}
		}
		w.Flush()
	}()

	md := metadata.New(cfg.Headers)
	var inFlight atomic.Int64
	var calls sync.WaitGroup
	dropped, sent := 0, 0
	start := time.Now()
	var interval time.Duration
	if cfg.RPS > 0 {
		interval = time.Duration(float64(time.Second) / cfg.RPS)
	}
	for i := 0; i < cfg.Requests && !stop.Load(); i++ {
		intended := start.Add(time.Duration(i) * interval)
		if d := time.Until(intended); d > 0 {
			time.Sleep(d)
		}
		if inFlight.Load() >= int64(cfg.MaxInFlight) {
			dropped++
			out <- result{i, 0, 0, -1, ""} // code -1: dropped, never sent (open model)
			continue
		}
		inFlight.Add(1)
		calls.Add(1)
		sent++
		go func(seq int, intended time.Time) {
			defer calls.Done()
			defer inFlight.Add(-1)
			lag := time.Since(intended)
			ctx, cancel := context.WithTimeout(metadata.NewOutgoingContext(context.Background(), md), time.Duration(cfg.DeadlineMs)*time.Millisecond)
			resp, err := client.Echo(ctx, &pb.EchoRequest{Message: "meshcheck"})
			cancel()
			latency := time.Since(intended)
			r := result{seq, lag.Microseconds(), latency.Microseconds(), 0, ""}
			if err != nil {
				st := status.Convert(err)
				r[3] = int(st.Code())
				r[4] = st.Message()
			} else {
				r[4] = resp.GetMessage()
			}
			out <- r
		}(i, intended)
	}
	elapsed := time.Since(start)
	calls.Wait()
	total := time.Since(start)
	close(out)
	printed.Wait()
	return map[string]any{"sent": sent, "dropped": dropped, "sendMs": float64(elapsed.Microseconds()) / 1000, "totalMs": float64(total.Microseconds()) / 1000, "readyMs": readyMs, "stoppedEarly": stop.Load()}, nil
}
