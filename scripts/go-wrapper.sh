# Sourced by the build scripts.
# `tools_cache NAME`: the tools cache ($TOOLS, binaries in $BIN, both made), a check that Go is installed,
# static reproducible builds with the local toolchain, and log() prefixed with NAME.
tools_cache() {
  TOOLS="${MESHCHECK_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/meshcheck/tools}"
  BIN="$TOOLS/bin"
  mkdir -p "$BIN" "$TOOLS/src"
  command -v go >/dev/null 2>&1 || { echo "$1: Go is not installed (need go >= 1.26)" >&2; exit 3; }
  export GOFLAGS=-trimpath CGO_ENABLED=0 GOTOOLCHAIN=local
  eval "log() { echo \"$1: \$*\" >&2; }"
}

# `enter_wrapper_module DIR`: makes DIR a Go module of its own (once) and
# changes into it. Tools whose go.mod has replace directives (Kubernetes, etcd) or whose module path
# the proxy cannot list (k6) are built as a dependency of such a module instead of `go install`.
enter_wrapper_module() {
  mkdir -p "$1" && cd "$1" || return 1
  [ -f go.mod ] || go mod init "meshcheck.local/$(basename "$1" | tr -c 'a-z0-9\n' '-')" >/dev/null 2>&1
}

# `build_own_program NAME MODULE_DIR [GO-BUILD-FLAGS...]`: builds one of the project's own Go programs
# into $BIN/NAME, again only when its source changed (a hash of go.mod, go.sum and *.go is kept
# beside the binary). Needs $BIN and log().
build_own_program() {
  local name="$1" dir="$2" sum
  shift 2
  sum=$(cd "$dir" && cat go.mod go.sum ./*.go | sha256sum | cut -d' ' -f1)
  if [ -x "$BIN/$name" ] && [ "$(cat "$BIN/$name.sum" 2>/dev/null)" = "$sum" ]; then
    log "$name up to date in $BIN"
    return 0
  fi
  log "building $name ($dir)"
  (cd "$dir" && go build "$@" -o "$BIN/$name.tmp" .)
  mv "$BIN/$name.tmp" "$BIN/$name"
  echo "$sum" > "$BIN/$name.sum"
}
