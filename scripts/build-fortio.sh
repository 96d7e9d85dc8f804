#!/usr/bin/env bash
# tools: meshcheck-fortio
# Builds meshcheck-fortio (go/fortio): one HTTP load with fortio's own load engine (fortio.org/fortio
# v1.75.3, pinned in go/fortio/go.mod), for the benchmarks that check meshcheck's engines against it.
# fortio's own command is not built: the Go module proxy refuses a module only its command uses (see
# go/fortio/main.go). Rebuilt when its source changes. Cold: about 25 s on 2 cores, with the module downloads.
set -euo pipefail
# shellcheck source=scripts/go-wrapper.sh
. "$(dirname "$0")/go-wrapper.sh"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
tools_cache build-fortio
build_own_program meshcheck-fortio "$ROOT/go/fortio" -ldflags "-s -w"
echo "$BIN/meshcheck-fortio"
