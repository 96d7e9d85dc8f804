#!/usr/bin/env bash
# tools: k6
# Installs the real k6 load generator (pinned) from the Go module proxy into meshcheck's tools cache.
# Idempotent: a k6 that already reports the pinned version is kept.
set -euo pipefail
# shellcheck source=scripts/go-wrapper.sh
. "$(dirname "$0")/go-wrapper.sh"
K6_VERSION="${MESHCHECK_K6_VERSION:-2.2.0}"
tools_cache build-k6
if [ -x "$BIN/k6" ] && "$BIN/k6" version 2>/dev/null | grep -q "v$K6_VERSION"; then
  echo "build-k6: k6 v$K6_VERSION cached in $BIN" >&2
else
  echo "build-k6: building k6 v$K6_VERSION (cold: 3-6 min on 2 cores)" >&2
  # Through a wrapper module: `go install go.k6.io/k6/v2@...` asks the proxy for the module's version
  # list (404 there) and then the vanity host go.k6.io, which CI machines cannot reach.
  enter_wrapper_module "$TOOLS/src/k6-$K6_VERSION"
  export GOFLAGS=-trimpath CGO_ENABLED=0 GOTOOLCHAIN=local
  go get "go.k6.io/k6/v2@v$K6_VERSION"
  go build -ldflags "-s -w" -o "$BIN/k6.tmp" go.k6.io/k6/v2
  mv "$BIN/k6.tmp" "$BIN/k6"
  echo "build-k6: $("$BIN/k6" version | head -n 1)" >&2
fi
echo "$BIN/k6"
