#!/usr/bin/env bash
# tools: osm-controller osm-injector osm-bootstrap osm-preinstall
# Builds Open Service Mesh's control plane (github.com/openservicemesh/osm v1.2.4, the project's last
# release; archived) from the Go module proxy into meshcheck's tools cache: the controller (xDS server and
# CA), the sidecar injector, the bootstrap (installs OSM's CRDs and its MeshConfig) and the pre-install
# check. Also copies OSM's chart and CRDs from the same module, which `meshcheck install --mesh osm` uses on
# meshcheck's node (no chart repository), beside the binaries.
# Built inside a copy of OSM's own module (its go.mod and go.sum, exactly as pinned): `go install
# pkg@version` cannot be used, since it lists the module's versions, which the Go module proxy refuses (403).
# Idempotent (a stamp beside the binaries names the version). Cold: about 2 min on 2 cores.
set -euo pipefail
# shellcheck source=scripts/go-wrapper.sh
. "$(dirname "$0")/go-wrapper.sh"
OSM_VERSION="${MESHCHECK_OSM_VERSION:-v1.2.4}"
MODULE=github.com/openservicemesh/osm
tools_cache build-osm
# The module's source in Go's module cache (downloaded once).
module_dir() { go mod download -json "$MODULE@$OSM_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p'; }
COMMANDS=(osm-controller osm-injector osm-bootstrap osm-preinstall)

stamp="$BIN/osm.version"
built=1
for cmd in "${COMMANDS[@]}"; do [ -x "$BIN/$cmd" ] || built=0; done
if [ "$built" = 1 ] && [ "$(cat "$stamp" 2>/dev/null)" = "$OSM_VERSION" ]; then
  log "OSM $OSM_VERSION cached in $BIN"
else
  log "building OSM $OSM_VERSION (${COMMANDS[*]}; cold: about 2 min on 2 cores)"
  SRC="$TOOLS/src/osm-$OSM_VERSION"
  if [ ! -f "$SRC/go.mod" ]; then
    rm -rf "$SRC.tmp"
    cp -r "$(module_dir)" "$SRC.tmp" && chmod -R u+w "$SRC.tmp" && mv "$SRC.tmp" "$SRC"
  fi
  # OSM's version package is what its controller reports to the injector and in its logs.
  (cd "$SRC" && go build -ldflags "-s -w -X $MODULE/pkg/version.Version=$OSM_VERSION -X $MODULE/pkg/version.BuildDate=pinned" \
    -o "$BIN/" $(printf './cmd/%s ' "${COMMANDS[@]}"))
  echo "$OSM_VERSION" > "$stamp"
  log "OSM $OSM_VERSION built"
fi

# OSM's chart and CRDs at the same version (the bootstrap's image carries the CRDs, where OSM's own
# osm-bootstrap image has them).
FILES="$TOOLS/osm-files/$OSM_VERSION"
if [ ! -f "$FILES/osm/Chart.yaml" ] || [ ! -d "$FILES/crds" ]; then
  MOD="$(module_dir)"
  rm -rf "$FILES.tmp" && mkdir -p "$FILES.tmp"
  cp -r "$MOD/charts/osm" "$FILES.tmp/osm"
  cp -r "$MOD/cmd/osm-bootstrap/crds" "$FILES.tmp/crds"
  chmod -R u+w "$FILES.tmp"
  rm -rf "$FILES" && mv "$FILES.tmp" "$FILES"
  log "OSM's chart and CRDs copied to $FILES"
fi
echo "$BIN"
