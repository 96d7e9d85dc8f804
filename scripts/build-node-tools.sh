#!/usr/bin/env bash
# tools: containerd containerd-shim-runc-v2 ctr meshcheck-image meshcheck-pause
# Builds what the real node (`meshcheck cluster up`) needs besides the kubelet and kube-proxy (those come
# with the control plane, scripts/build-kube-tools.sh), from the Go module proxy into the tools cache:
#   containerd, containerd-shim-runc-v2, ctr  (github.com/containerd/containerd/v2, through a wrapper
#                    module; without cgo, so the btrfs snapshotter is left out: the node uses overlayfs)
#   meshcheck-image  (go/image, the project's own: writes an image tarball from local files with
#                    go-containerregistry, for `ctr images import`; the node has no registry)
#   meshcheck-pause  (go/pause, the project's own: the pods' sandbox process)
# runc and the CNI plugins come from Debian (scripts/setup.sh). Idempotent: a binary that reports the
# pinned version, or whose source has not changed, is kept. Cold: about 7 min on 2 cores.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/go-wrapper.sh
. "$(dirname "$0")/go-wrapper.sh"
CONTAINERD_VERSION="${MESHCHECK_CONTAINERD_VERSION:-2.4.2}"
tools_cache build-node-tools

CMDS=(containerd containerd-shim-runc-v2 ctr)
missing=()
for c in "${CMDS[@]}"; do
  if [ -x "$BIN/$c" ] && "$BIN/$c" --version 2>/dev/null | grep -qF -- "$CONTAINERD_VERSION"; then log "$c $CONTAINERD_VERSION cached in $BIN"; else missing+=("$c"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  log "building ${missing[*]} v$CONTAINERD_VERSION (cold: about 7 min on 2 cores)"
  enter_wrapper_module "$TOOLS/src/containerd-$CONTAINERD_VERSION"
  M=github.com/containerd/containerd/v2
  PKGS=()
  for c in "${missing[@]}"; do PKGS+=("$M/cmd/$c"); done
  go get "${PKGS[@]/%/@v$CONTAINERD_VERSION}"
  OUT="$BIN/.build-$$"
  mkdir -p "$OUT"
  go build -tags no_btrfs -ldflags "-s -w -X $M/version.Version=v$CONTAINERD_VERSION -X $M/version.Package=$M" -o "$OUT/" "${PKGS[@]}"
  for c in "${missing[@]}"; do mv "$OUT/$c" "$BIN/$c"; log "$c built"; done
  rmdir "$OUT"
fi
build_own_program meshcheck-image "$ROOT/go/image" -ldflags "-s -w"
build_own_program meshcheck-pause "$ROOT/go/pause" -ldflags "-s -w"
echo "$BIN"
