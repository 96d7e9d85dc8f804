// meshcheck-image writes a container image built from files on this machine as an image tarball that
// containerd imports (`ctr -n k8s.io images import`): the real node has no registry, so every image its
// pods run is made here from a pinned local binary. The image format is go-containerregistry's.
//
//	meshcheck-image -ref meshcheck.local/k6:2.2.0 -out k6.tar -entrypoint /usr/bin/k6 \
//	    /root/.cache/meshcheck/tools/bin/k6=/usr/bin/k6
//
// Each argument is HOST_PATH=IMAGE_PATH (or HOST_PATH, kept at the same path). With -libs, the shared
// libraries a dynamically linked file needs (as ldd resolves them here) are added at their own paths.
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	ref := flag.String("ref", "", "the image's name, e.g. meshcheck.local/pause:1 (required)")
	out := flag.String("out", "", "the tarball to write (required)")
	entrypoint := flag.String("entrypoint", "", "the entrypoint, space separated")
	cmd := flag.String("cmd", "", "the default arguments, space separated")
	workdir := flag.String("workdir", "/", "the working directory")
	user := flag.String("user", "", "the user the image runs as, e.g. 65532")
	libs := flag.Bool("libs", false, "also add the shared libraries each file needs (ldd)")
	var env, dirs, links list
	flag.Var(&env, "env", "an environment variable K=V (repeatable)")
	flag.Var(&links, "symlink", "a symbolic link LINK=TARGET (repeatable), e.g. /bin/sh=busybox")
	flag.Var(&dirs, "dir", "an empty directory to create, world-writable (repeatable), e.g. /tmp")
	flag.Parse()
	if *ref == "" || *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: meshcheck-image -ref NAME -out FILE.tar [-entrypoint CMD] [-libs] HOST_PATH[=IMAGE_PATH]...")
		os.Exit(2)
	}
	if err := build(*ref, *out, *entrypoint, *cmd, *workdir, *user, *libs, env, dirs, links, flag.Args()); err != nil {
		fmt.Fprintf(os.Stderr, "meshcheck-image: %s: %v\n", *ref, err)
		os.Exit(1)
	}
}

func build(ref, out, entrypoint, cmd, workdir, user string, libs bool, env, dirs, links, specs []string) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return err
	}
	files := map[string]string{} // image path -> host path
	for _, s := range specs {
		host, at, ok := strings.Cut(s, "=")
		if !ok {
			at = host
		}
		files[path.Clean("/"+at)] = host
		if libs {
			needed, err := sharedLibraries(host)
			if err != nil {
				return err
			}
			for _, l := range needed {
				files[l] = l
			}
		}
	}
	layer, err := layerOf(files, dirs, links)
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	cfg.Config.Entrypoint = strings.Fields(entrypoint)
	cfg.Config.Cmd = strings.Fields(cmd)
	cfg.Config.Env = append([]string{"PATH=/usr/local/bin:/usr/bin:/bin"}, env...)
	cfg.Config.WorkingDir = workdir
	cfg.Config.User = user
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := tarball.WriteToFile(tmp, tag, img); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

var lddLine = regexp.MustCompile(`(?m)(?:=>\s*)?(/\S+)\s+\(0x`)

// sharedLibraries lists what ldd resolves for a file (none for a static binary).
func sharedLibraries(file string) ([]string, error) {
	outp, err := exec.Command("ldd", file).CombinedOutput()
	if err != nil {
		if strings.Contains(string(outp), "not a dynamic executable") {
			return nil, nil
		}
		return nil, fmt.Errorf("ldd %s: %v: %s", file, err, outp)
	}
	var libs []string
	for _, m := range lddLine.FindAllStringSubmatch(string(outp), -1) {
		libs = append(libs, m[1])
	}
	return libs, nil
}

// layerOf writes one layer: every file with its parent directories, in a stable order.
func layerOf(files map[string]string, dirs, links []string) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	made := map[string]bool{"/": true}
	mkdir := func(d string, mode int64) error {
		var chain []string
		for p := d; !made[p]; p = path.Dir(p) {
			chain = append([]string{p}, chain...)
		}
		for _, p := range chain {
			made[p] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(p, "/") + "/", Mode: mode}); err != nil {
				return err
			}
		}
		return nil
	}
	for _, d := range dirs {
		if err := mkdir(path.Dir(path.Clean("/"+d)), 0o755); err != nil {
			return nil, err
		}
		if err := mkdir(path.Clean("/"+d), 0o1777); err != nil {
			return nil, err
		}
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := mkdir(path.Dir(p), 0o755); err != nil {
			return nil, err
		}
		f, err := os.Open(files[p])
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(p, "/"), Mode: int64(st.Mode().Perm()), Size: st.Size()}); err != nil {
			f.Close()
			return nil, err
		}
		_, err = io.Copy(tw, f)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	for _, l := range links {
		at, target, ok := strings.Cut(l, "=")
		if !ok {
			return nil, fmt.Errorf("-symlink %s: expected LINK=TARGET", l)
		}
		at = path.Clean("/" + at)
		if err := mkdir(path.Dir(at), 0o755); err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: strings.TrimPrefix(at, "/"), Linkname: target, Mode: 0o777}); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
}
