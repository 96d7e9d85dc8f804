# Sourced by the build scripts. `enter_wrapper_module DIR`: makes DIR a Go module of its own (once) and
# changes into it. Tools whose go.mod has replace directives (Kubernetes, etcd) or whose module path
# the proxy cannot list (k6) are built as a dependency of such a module instead of `go install`.
enter_wrapper_module() {
  mkdir -p "$1" && cd "$1" || return 1
  [ -f go.mod ] || go mod init "meshcheck.local/$(basename "$1" | tr -c 'a-z0-9\n' '-')" >/dev/null 2>&1
}
