// meshcheck-fortio runs one HTTP load with fortio's own load engine (fortio.org/fortio's fhttp runner,
// the tool Istio's published overhead figures were measured with) and prints one JSON line: what was
// sent, the status codes, and the latency percentiles from fortio's histogram. meshcheck's benchmarks
// set it beside its embedded engine and k6 on the same target. fortio's own command cannot be built
// from the Go module proxy here (its script console, grol.io/grol, is refused with 403); its load
// library does not use that module, which go.mod replaces with an empty one (grol-stub/).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"fortio.org/fortio/fhttp"
	"fortio.org/fortio/periodic"
	"fortio.org/log"
)

// Result is the line meshcheck reads: latencies in milliseconds, as fortio measured them.
type Result struct {
	Engine      string             `json:"engine"`
	URL         string             `json:"url"`
	Requested   float64            `json:"requestedRps"`
	Actual      float64            `json:"actualRps"`
	Connections int                `json:"connections"`
	Count       int64              `json:"count"`
	Codes       map[string]int64   `json:"codes"`
	Percentiles map[string]float64 `json:"percentilesMs"`
	MinMs       float64            `json:"minMs"`
	MaxMs       float64            `json:"maxMs"`
	AvgMs       float64            `json:"avgMs"`
	Sockets     int                `json:"sockets"`
}

// headerList collects repeated -H flags.
type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, ", ") }
func (h *headerList) Set(v string) error { *h = append(*h, v); return nil }

func main() {
	url := flag.String("url", "", "the URL to load, e.g. http://127.0.0.1:9080/ (required)")
	qps := flag.Float64("qps", 100, "requests per second across all connections")
	conns := flag.Int("c", 4, "connections (fortio's threads, one connection each)")
	n := flag.Int64("n", 1000, "exactly this many requests")
	payload := flag.Int("payload-size", 0, "a request body of this many bytes (a POST, as fortio sends one)")
	var headers headerList
	flag.Var(&headers, "H", `a request header "Name: value" (repeatable), e.g. -H "Host: reviews"`)
	// fortio's default histogram resolution is 1 ms, coarse for sub-millisecond loopback latencies
	// (its percentiles interpolate inside a bucket); 10 µs is the resolution meshcheck's figures need.
	resolution := flag.Float64("r", 0.00001, "histogram resolution in seconds")
	// Without it fortio's connections start together and each paces its share, so the calls arrive in
	// bursts of one per connection (measured on the wire: 4 requests within 50 µs every 4 ms at 1000
	// rps over 4 connections), and the server queues them; meshcheck's engines spread the arrivals.
	uniform := flag.Bool("uniform", true, "spread the connections' starts, so the calls arrive evenly spaced")
	flag.Parse()
	if *url == "" || !strings.HasPrefix(*url, "http") {
		fmt.Fprintln(os.Stderr, "meshcheck-fortio: -url http://HOST:PORT/PATH is required")
		os.Exit(2)
	}
	log.SetLogLevelQuiet(log.Error)
	o := fhttp.HTTPRunnerOptions{
		RunnerOptions: periodic.RunnerOptions{QPS: *qps, NumThreads: *conns, Exactly: *n, Percentiles: []float64{50, 90, 99}, Resolution: *resolution, Uniform: *uniform, Out: io.Discard},
		HTTPOptions:   fhttp.HTTPOptions{URL: *url},
	}
	o.Init(*url)
	if *payload > 0 {
		o.Payload = []byte(strings.Repeat("x", *payload))
	}
	for _, h := range headers {
		if err := o.AddAndValidateExtraHeader(h); err != nil {
			fmt.Fprintf(os.Stderr, "meshcheck-fortio: -H %q: %v\n", h, err)
			os.Exit(2)
		}
	}
	res, err := fhttp.RunHTTPTest(&o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "meshcheck-fortio: %v\n", err)
		os.Exit(1)
	}
	h := res.DurationHistogram
	out := Result{
		Engine: "fortio " + res.Version, URL: *url, Requested: *qps, Actual: res.ActualQPS, Connections: *conns,
		Count: h.Count, Codes: map[string]int64{}, Percentiles: map[string]float64{},
		MinMs: h.Min * 1000, MaxMs: h.Max * 1000, AvgMs: h.Avg * 1000, Sockets: len(res.Sockets),
	}
	for code, c := range res.RetCodes {
		out.Codes[fmt.Sprint(code)] = c
	}
	for _, p := range h.Percentiles {
		out.Percentiles[fmt.Sprintf("p%g", p.Percentile)] = p.Value * 1000
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintf(os.Stderr, "meshcheck-fortio: %v\n", err)
		os.Exit(1)
	}
}
