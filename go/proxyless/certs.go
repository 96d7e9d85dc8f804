package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"istio.io/istio/pkg/security"
	"istio.io/istio/security/pkg/nodeagent/caclient/providers/citadel"
	"istio.io/istio/security/pkg/pki/util"
)

type certsConfig struct {
	// CA is istiod's secure gRPC address (its CA answers there).
	CA string `json:"ca"`
	// RootFile holds istiod's root certificate (the istio-ca-root-cert ConfigMap) to verify istiod.
	RootFile  string `json:"rootFile"`
	ClusterID string `json:"clusterId"`
	TTLSecs   int64  `json:"ttlSeconds"`
	// One entry per workload identity: a ServiceAccount token (audience istio-ca) and where to write.
	Workloads []struct {
		Identity  string `json:"identity"`
		TokenFile string `json:"tokenFile"`
		CertFile  string `json:"certFile"`
		KeyFile   string `json:"keyFile"`
		RootOut   string `json:"rootOut"`
	} `json:"workloads"`
}

// tokenFile hands istio's CA client one workload's ServiceAccount token.
type tokenFile string

func (t tokenFile) GetPlatformCredential() (string, error) {
	b, err := os.ReadFile(string(t))
	return strings.TrimSpace(string(b)), err
}
func (t tokenFile) GetIdentityProvider() string { return "" }
func (t tokenFile) Stop()                       {}

// runCerts asks istiod's CA for each workload's certificate. istiod checks the token by TokenReview and
// takes the identity from it (not from the CSR); the CSR's SAN is the identity meshcheck expects.
func runCerts(arg string) error {
	cfg := certsConfig{ClusterID: "Kubernetes", TTLSecs: 86400}
	if err := parse(arg, &cfg); err != nil {
		return err
	}
	for _, w := range cfg.Workloads {
		start := time.Now()
		opts := &security.Options{CAEndpoint: cfg.CA, CAEndpointSAN: "istiod.istio-system.svc", ClusterID: cfg.ClusterID, CredFetcher: tokenFile(w.TokenFile)}
		client, err := citadel.NewCitadelClient(opts, &citadel.TLSOptions{RootCert: cfg.RootFile})
		if err != nil {
			return fmt.Errorf("%s: %w", w.Identity, err)
		}
		csr, key, err := util.GenCSR(util.CertOptions{Host: w.Identity, ECSigAlg: util.EcdsaSigAlg})
		if err != nil {
			client.Close()
			return err
		}
		chain, err := client.CSRSign(csr, cfg.TTLSecs)
		client.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", w.Identity, err)
		}
		// The chain is leaf first, root last.
		if err := os.WriteFile(w.CertFile, []byte(strings.Join(chain[:len(chain)-1], "")), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(w.KeyFile, key, 0o600); err != nil {
			return err
		}
		if w.RootOut != "" {
			if err := os.WriteFile(w.RootOut, []byte(chain[len(chain)-1]), 0o644); err != nil {
				return err
			}
		}
		emit("CERT", map[string]any{"identity": w.Identity, "ms": time.Since(start).Milliseconds()})
	}
	return nil
}
