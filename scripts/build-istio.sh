#!/usr/bin/env bash
# tools: pilot-discovery pilot-agent meshcheck-proxyless istio-1.30/pilot-discovery istio-1.30/pilot-agent
# Builds Istio's real control plane (pilot-discovery, the istiod binary) from the Go module proxy into
# meshcheck's tools cache, and meshcheck's own proxyless gRPC programs (go/proxyless: the echo workload,
# the load client and the certificate request to istiod's CA), which link grpc-go and istio.
#   istio.io/istio is served only as pseudo-versions; the pinned one is the release-1.31 line
#   (its VERSION file says 1.31, its go.mod pins istio.io/api v1.31.0-rc...).
# Also the release-1.30 line's istiod and pilot-agent, the "from" side of upgrade tests, under istio-1.30/.
# Idempotent: binaries that report the pinned version are kept. Cold: about 8 min for pilot-discovery on
# 2 idle cores (2 GB RAM peak), 1 min more for the proxyless programs, and about 6 min for 1.30 (its own dependencies; 1.31's build cache warm).
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
# Istio's source versions its charts 1.0.0 whatever the release: the copies are stamped with the
# version built (chart semver: MINOR.0-dev.COMMIT), so that install tells the two minors' charts apart
# (a release at 1.30's chart is upgraded by 1.31's, and one at 1.31's is left as it is).

istio_files_present() { # DEST STAMP
  [ -f "$1/envoy_bootstrap_tmpl.json" ] && grep -qxF "version: $2" "$1/istiod/Chart.yaml" 2>/dev/null && grep -qxF "version: $2" "$1/base/Chart.yaml"
}
copy_istio_files() { # MODULE_DIR DEST STAMP
  rm -rf "$2.tmp" && mkdir -p "$2.tmp"
  cp -r "$1/manifests/charts/base" "$2.tmp/base"
  cp -r "$1/manifests/charts/istio-control/istio-discovery" "$2.tmp/istiod"
  cp "$1/tools/packaging/common/envoy_bootstrap.json" "$2.tmp/envoy_bootstrap_tmpl.json"
  chmod -R u+w "$2.tmp"
  sed -i -e "s/^version: .*/version: $3/" -e "s/^appVersion: .*/appVersion: $3/" "$2.tmp/base/Chart.yaml" "$2.tmp/istiod/Chart.yaml"
  rm -rf "$2" && mv "$2.tmp" "$2"
  log "Istio's charts (stamped $3) and Envoy bootstrap template copied to $2"
}
# No "+" in the stamp: the charts put appVersion in a label (app.kubernetes.io/version), where "+" is refused.
chart_stamp() { local v="${1%%+*}"; echo "${v%%-*}.0-${v#*-}.${1#*+}"; } # 1.31-dev+eed52ebb66ad -> 1.31.0-dev.eed52ebb66ad
CHARTS="$(dirname "$BIN")/istio-charts/$ISTIO_PSEUDO"
istio_files_present "$CHARTS" "$(chart_stamp "$ISTIO_VERSION")" || copy_istio_files "$(cd "$ROOT/go/proxyless" && go list -m -f '{{.Dir}}' istio.io/istio)" "$CHARTS" "$(chart_stamp "$ISTIO_VERSION")"

# Istio 1.30 (release-1.30 after 1.30.3; reports 1.30-dev+9739e10eb9d7): the version an upgrade test
# starts from, one minor before the pin above (Istio's supported skew for in-place upgrades). Built in a
# copy of its own module, as it pins its dependencies, except five the Go module proxy refuses (403 on
# those pseudo-versions), each replaced by the nearest version it serves:
#   istio.io/api, istio.io/client-go: v1.30.4-0.20260824... -> v1.30.8, later tags of the same 1.30 line;
#   go-control-plane envoy v1.37.1-0.20260409... and contrib v1.36.1-0.20260409... -> the 20260418 pins
#   Istio's master uses (the same API generation);
#   agentgateway/api v0.0.0-20260506... -> v0.0.0-20260501..., the pin of release-1.31 above.
PREV_PSEUDO=v0.0.0-20260826214018-9739e10eb9d7
PREV_VERSION=1.30-dev+9739e10eb9d7
PREV_BIN="$BIN/istio-1.30"
PREV_SRC="$TOOLS/src/istio-$PREV_PSEUDO"
prev_src() {
  [ -f "$PREV_SRC/go.mod" ] && return
  local DIR
  DIR="$(go mod download -json "istio.io/istio@$PREV_PSEUDO" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
  rm -rf "$PREV_SRC.tmp" && cp -r "$DIR" "$PREV_SRC.tmp" && chmod -R u+w "$PREV_SRC.tmp"
  cat >> "$PREV_SRC.tmp/go.mod" <<'MOD'

replace (
	github.com/agentgateway/agentgateway/api => github.com/agentgateway/agentgateway/api v0.0.0-20260501213430-773586679f1c
	github.com/envoyproxy/go-control-plane/contrib => github.com/envoyproxy/go-control-plane/contrib v1.36.1-0.20260418153000-ae8637bdda9d
	github.com/envoyproxy/go-control-plane/envoy => github.com/envoyproxy/go-control-plane/envoy v1.37.1-0.20260418153000-ae8637bdda9d
	istio.io/api => istio.io/api v1.30.8
	istio.io/client-go => istio.io/client-go v1.30.8
)
MOD
  mv "$PREV_SRC.tmp" "$PREV_SRC"
}
for cmd in pilot-discovery pilot-agent; do
  if [ -x "$PREV_BIN/$cmd" ] && "$PREV_BIN/$cmd" version -s 2>/dev/null | grep -qF -- "$PREV_VERSION"; then
    log "$cmd $PREV_VERSION cached in $PREV_BIN"
    continue
  fi
  prev_src
  log "building $cmd $PREV_VERSION (istio.io/istio@$PREV_PSEUDO with the five replacements)"
  mkdir -p "$PREV_BIN"
  (cd "$PREV_SRC" && GOFLAGS=-mod=mod go build -tags=vtprotobuf,disable_pgv -ldflags "-s -w -X istio.io/istio/pkg/version.buildVersion=$PREV_VERSION -X istio.io/istio/pkg/version.buildStatus=Clean -X istio.io/istio/pkg/version.buildTag=$PREV_PSEUDO" \
    -o "$PREV_BIN/$cmd.tmp" "./pilot/cmd/$cmd")
  mv "$PREV_BIN/$cmd.tmp" "$PREV_BIN/$cmd"
  log "$cmd built: $("$PREV_BIN/$cmd" version -s)"
done
PREV_CHARTS="$(dirname "$BIN")/istio-charts/$PREV_PSEUDO"
istio_files_present "$PREV_CHARTS" "$(chart_stamp "$PREV_VERSION")" || { prev_src && copy_istio_files "$PREV_SRC" "$PREV_CHARTS" "$(chart_stamp "$PREV_VERSION")"; }

# The proxyless programs are the project's own source, rebuilt when it changes (cold: about a minute).
build_own_program meshcheck-proxyless "$ROOT/go/proxyless" -tags=disable_pgv -ldflags "-s -w"
echo "$BIN"
