#!/usr/bin/env bash
# tools: containerd containerd-shim-runc-v2 ctr coredns meshcheck-image meshcheck-pause
# Builds what the real node (`meshcheck cluster up`) needs besides the kubelet and kube-proxy (those come
# with the control plane, scripts/build-kube-tools.sh), from the Go module proxy into the tools cache:
#   containerd, containerd-shim-runc-v2, ctr  (github.com/containerd/containerd/v2, through a wrapper
#                    module; without cgo, so the btrfs snapshotter is left out: the node uses overlayfs)
#   coredns          (github.com/coredns/coredns: the cluster's DNS, run as a pod; it answers for the
#                    cluster's names only and forwards nothing)
#   meshcheck-image  (go/image, the project's own: writes an image tarball from local files with
#                    go-containerregistry, for `ctr images import`; the node has no registry)
#   meshcheck-pause  (go/pause, the project's own: the pods' sandbox process)
# runc and the CNI plugins come from Debian (scripts/setup.sh). Idempotent: a binary that reports the
# pinned version, or whose source has not changed, is kept. Cold: about 7 min on 2 cores for containerd,
# 3 for CoreDNS.
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
COREDNS_VERSION="${MESHCHECK_COREDNS_VERSION:-1.15.0}"
if [ -x "$BIN/coredns" ] && "$BIN/coredns" -version 2>/dev/null | grep -qF -- "CoreDNS-$COREDNS_VERSION"; then
  log "coredns $COREDNS_VERSION cached in $BIN"
else
  log "building coredns v$COREDNS_VERSION (cold: about 3 min on 2 cores)"
  enter_wrapper_module "$TOOLS/src/coredns-$COREDNS_VERSION"
  go get "github.com/coredns/coredns@v$COREDNS_VERSION"
  go build -ldflags "-s -w" -o "$BIN/coredns.tmp" github.com/coredns/coredns
  mv "$BIN/coredns.tmp" "$BIN/coredns"
  log "coredns built: $("$BIN/coredns" -version | head -n 1)"
fi
build_own_program meshcheck-image "$ROOT/go/image" -ldflags "-s -w"
build_own_program meshcheck-pause "$ROOT/go/pause" -ldflags "-s -w"
echo "$BIN"
