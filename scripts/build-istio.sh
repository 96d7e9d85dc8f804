#!/usr/bin/env bash
# tools: pilot-discovery pilot-agent meshcheck-proxyless
# Builds Istio's real control plane (pilot-discovery, the istiod binary) from the Go module proxy into
# meshcheck's tools cache, and meshcheck's own proxyless gRPC programs (go/proxyless: the echo workload,
# the load client and the certificate request to istiod's CA), which link grpc-go and istio.
#   istio.io/istio is served only as pseudo-versions; the pinned one is the release-1.31 line
#   (its VERSION file says 1.31, its go.mod pins istio.io/api v1.31.0-rc...).
# Idempotent: binaries that report the pinned version are kept. Cold: about 8 min for pilot-discovery on
# 2 idle cores (2 GB RAM peak), 1 min more for the proxyless programs.
set -euo pipefail
# shellcheck source=scripts/go-wrapper.sh
. "$(dirname "$0")/go-wrapper.sh"
ISTIO_PSEUDO="${MESHCHECK_ISTIO_MODULE:-v0.0.0-20260827124520-eed52ebb66ad}"
ISTIO_VERSION="${MESHCHECK_ISTIO_VERSION:-1.31-dev+eed52ebb66ad}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
tools_cache build-istio

# istiod (pilot-discovery) and Istio's node agent (pilot-agent: the istio-proxy container of an injected
# pod, which on proxyless gRPC serves the workload its xDS bootstrap and certificates; the real node's
# images carry both). Built inside the proxyless module, which requires istio at the same pseudo-version:
# one module graph, one download, and the same dependency versions as the workloads.
for cmd in pilot-discovery pilot-agent; do
  if [ -x "$BIN/$cmd" ] && "$BIN/$cmd" version -s 2>/dev/null | grep -qF -- "$ISTIO_VERSION"; then
    log "$cmd $ISTIO_VERSION cached in $BIN"
    continue
  fi
  log "building $cmd (istio.io/istio@$ISTIO_PSEUDO; cold: about 8 min on 2 cores for the first, 2 for the other)"
  (cd "$ROOT/go/proxyless" && go build -tags=vtprotobuf,disable_pgv -ldflags "-s -w -X istio.io/istio/pkg/version.buildVersion=$ISTIO_VERSION -X istio.io/istio/pkg/version.buildStatus=Clean -X istio.io/istio/pkg/version.buildTag=$ISTIO_PSEUDO" \
    -o "$BIN/$cmd.tmp" "istio.io/istio/pilot/cmd/$cmd")
  mv "$BIN/$cmd.tmp" "$BIN/$cmd"
  log "$cmd built: $("$BIN/$cmd" version -s)"
done

# Istio's own files at the same source: its charts (base, istiod), which `meshcheck install` on
# meshcheck's node takes when no --charts is given, so istiod's chart matches the image built above (no
# chart repository); and the Envoy bootstrap template pilot-agent renders, which the node's sidecar
# image carries where Istio's proxy image has it.
CHARTS="$(dirname "$BIN")/istio-charts/$ISTIO_PSEUDO"
if [ ! -f "$CHARTS/istiod/Chart.yaml" ] || [ ! -f "$CHARTS/envoy_bootstrap_tmpl.json" ]; then
  MOD="$(cd "$ROOT/go/proxyless" && go list -m -f '{{.Dir}}' istio.io/istio)"
  rm -rf "$CHARTS.tmp" && mkdir -p "$CHARTS.tmp"
  cp -r "$MOD/manifests/charts/base" "$CHARTS.tmp/base"
  cp -r "$MOD/manifests/charts/istio-control/istio-discovery" "$CHARTS.tmp/istiod"
  cp "$MOD/tools/packaging/common/envoy_bootstrap.json" "$CHARTS.tmp/envoy_bootstrap_tmpl.json"
  chmod -R u+w "$CHARTS.tmp"
  rm -rf "$CHARTS" && mv "$CHARTS.tmp" "$CHARTS"
  log "Istio's charts and Envoy bootstrap template copied to $CHARTS"
fi

# The proxyless programs are the project's own source, rebuilt when it changes (cold: about a minute).
build_own_program meshcheck-proxyless "$ROOT/go/proxyless" -tags=disable_pgv -ldflags "-s -w"
echo "$BIN"
