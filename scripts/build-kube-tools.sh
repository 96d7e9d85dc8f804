#!/usr/bin/env bash
# tools: kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy etcd kwok helm meshcheck-policy
# Builds the real Kubernetes control-plane binaries meshcheck's tiers need, from the Go module proxy,
# into a cache that survives between runs:
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy
#                   (k8s.io/kubernetes, through a wrapper module: upstream's go.mod replaces its staging
#                    modules with local paths, so `go install` cannot build them directly; the kubelet
#                    and kube-proxy are the real node's, `meshcheck cluster up`)
#   etcd            (go.etcd.io/etcd/server/v3, also through a wrapper module for the same reason)
#   kwok            (sigs.k8s.io/kwok: simulated nodes, so a cluster without kubelets rolls out workloads)
#   kubectl, helm   (what `meshcheck install` drives; used from PATH first, these where PATH has none)
#   meshcheck-policy (go/policy, the project's own: reads what Linkerd's policy controller serves, for
#                    the kube target's "in effect" wait; rebuilt when its source changes)
# Idempotent: a binary that already reports the pinned version is not rebuilt.
# Cache: $MESHCHECK_TOOLS_DIR, else ${XDG_CACHE_HOME:-~/.cache}/meshcheck/tools. Go's own module and
# build caches are used as they are, so a second cold build only links.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/go-wrapper.sh
. "$(dirname "$0")/go-wrapper.sh"

KUBE_VERSION="${MESHCHECK_KUBE_VERSION:-1.36.3}"
ETCD_VERSION="${MESHCHECK_ETCD_VERSION:-3.6.14}"
tools_cache build-kube-tools

have() { # have BINARY EXPECTED-SUBSTRING-OF-VERSION-OUTPUT
  local args=(--version)
  [ "$1" = kubectl ] && args=(version --client)
  [ "$1" = helm ] && args=(version --short)
  [ -x "$BIN/$1" ] && "$BIN/$1" "${args[@]}" 2>/dev/null | grep -q -- "$2"
}

# The control plane: kube-apiserver (every tier), kube-controller-manager and kube-scheduler (the kube
# tier's cluster, with kwok's simulated nodes or the real node), and the real node's kubelet and
# kube-proxy. Built together: they share most of their packages.
CMDS=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy)
missing=()
for c in "${CMDS[@]}"; do
  if have "$c" "v$KUBE_VERSION"; then log "$c v$KUBE_VERSION cached in $BIN"; else missing+=("$c"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  log "building ${missing[*]} v$KUBE_VERSION (cold: 10-25 min on 2 cores for the first, a few minutes for each other)"
  enter_wrapper_module "$TOOLS/src/kube-$KUBE_VERSION"
  STAGING="v0.${KUBE_VERSION#1.}"
  KMOD=$(go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  [ -f "$KMOD" ] || { log "could not download k8s.io/kubernetes@v$KUBE_VERSION from the module proxy"; exit 3; }
  # Upstream replaces each staging module with ./staging/src/...; point them at the published versions.
  for m in $(sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => \./staging/.*#\1#p' "$KMOD"); do
    go mod edit -replace="$m=$m@$STAGING"
  done
  G=$(sed -n 's/^godebug \(default=.*\)/\1/p' "$KMOD"); [ -z "$G" ] || go mod edit -godebug="$G"
  PKGS=()
  for c in "${missing[@]}"; do PKGS+=("k8s.io/kubernetes/cmd/$c"); done
  go get "${PKGS[@]/%/@v$KUBE_VERSION}"
  V=k8s.io/component-base/version
  MINOR=$(echo "$KUBE_VERSION" | cut -d. -f2)
  OUT="$BIN/.build-$$"
  mkdir -p "$OUT"
  CV=k8s.io/client-go/pkg/version
  go build -ldflags "-s -w -X $V.gitVersion=v$KUBE_VERSION -X $V.gitMajor=1 -X $V.gitMinor=$MINOR -X $V.gitTreeState=clean -X $CV.gitVersion=v$KUBE_VERSION -X $CV.gitMajor=1 -X $CV.gitMinor=$MINOR" -o "$OUT/" "${PKGS[@]}"
  for c in "${missing[@]}"; do mv "$OUT/$c" "$BIN/$c"; log "$c built"; done
  rmdir "$OUT"
fi

if have etcd "$ETCD_VERSION"; then
  log "etcd $ETCD_VERSION cached in $BIN"
else
  log "building etcd v$ETCD_VERSION (cold: 1-3 min)"
  enter_wrapper_module "$TOOLS/src/etcd-$ETCD_VERSION"
  go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
  go build -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=v$ETCD_VERSION" -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$BIN/etcd.tmp" "$BIN/etcd"
  log "etcd built: $("$BIN/etcd" --version | head -n 1)"
fi

# kwok: simulated nodes for the kube tier's cluster (Deployments roll out, Jobs complete, no kubelet).
KWOK_VERSION="${MESHCHECK_KWOK_VERSION:-0.8.0}"
if [ -x "$BIN/kwok" ] && [ -d "$TOOLS/share/kwok-stage" ] && "$BIN/kwok" --version 2>/dev/null | grep -q -- "$KWOK_VERSION"; then
  log "kwok v$KWOK_VERSION cached in $BIN"
else
  log "building kwok v$KWOK_VERSION (cold: 3-5 min)"
  enter_wrapper_module "$TOOLS/src/kwok-$KWOK_VERSION"
  GOBIN="$BIN/.kwok-$$" go install "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
  mv "$BIN/.kwok-$$/kwok" "$BIN/kwok" && rmdir "$BIN/.kwok-$$"
  # kwok's stages (what a simulated node and pod go through), kept beside the binary.
  rm -rf "$TOOLS/share/kwok-stage" && mkdir -p "$TOOLS/share"
  cp -r "$(go env GOMODCACHE)/sigs.k8s.io/kwok@v$KWOK_VERSION/kustomize/stage" "$TOOLS/share/kwok-stage" && chmod -R u+w "$TOOLS/share/kwok-stage"
  log "kwok built: $("$BIN/kwok" --version 2>&1 | head -n 1)"
fi
# helm: meshcheck install's Helm, for machines without one (a cluster's charts are installed with it).
HELM_VERSION="${MESHCHECK_HELM_VERSION:-4.3.2}"
if have helm "v$HELM_VERSION"; then
  log "helm v$HELM_VERSION cached in $BIN"
else
  log "building helm v$HELM_VERSION (cold: 2-4 min)"
  enter_wrapper_module "$TOOLS/src/helm-$HELM_VERSION"
  go get "helm.sh/helm/v4/cmd/helm@v$HELM_VERSION"
  go build -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=v$HELM_VERSION" -o "$BIN/helm.tmp" helm.sh/helm/v4/cmd/helm
  mv "$BIN/helm.tmp" "$BIN/helm"
  log "helm built: $("$BIN/helm" version --short)"
fi
# meshcheck-policy (go/policy): the project's own source, rebuilt when it changes (cold: under a minute).
build_own_program meshcheck-policy "$ROOT/go/policy" -ldflags "-s -w"
echo "$BIN"
