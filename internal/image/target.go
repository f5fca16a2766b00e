package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Scheme names a kind of target.
type Scheme string

// The target schemes of DESIGN.md.
const (
	DockerArchive Scheme = "docker-archive"
	OCIArchive    Scheme = "oci-archive"
	OCIDir        Scheme = "oci-dir"
	Registry      Scheme = "registry"
	Docker        Scheme = "docker"
	Podman        Scheme = "podman"
	Dir           Scheme = "dir"
	File          Scheme = "file"
	GoSource      Scheme = "go"
	// Engine is not a scheme users write: a bare name that should be looked
	// up in the local engines (podman, then docker) and then a registry.
	Engine Scheme = "engine"
)

var schemes = []Scheme{DockerArchive, OCIArchive, OCIDir, Registry, Docker, Podman, Dir, File, GoSource}

// Target is a parsed target: a scheme and its value.
type Target struct {
	Scheme Scheme
	Value  string
	// Resolved is true when the scheme was inferred from a bare argument;
	// Why says how.
	Resolved bool
	Why      string
}

// String returns the target in scheme:value form.
func (t Target) String() string {
	if t.Scheme == Engine {
		return t.Value
	}
	return string(t.Scheme) + ":" + t.Value
}

// IsImage reports whether the target names an image (as opposed to a
// single file or Go source).
func (t Target) IsImage() bool {
	switch t.Scheme {
	case File, GoSource:
		return false
	}
	return true
}

// ErrNoTarget is returned by [ParseTarget] for an empty argument.
var ErrNoTarget = errors.New("image: empty target")

// ParseTarget turns a command-line argument into a [Target]. An explicit
// scheme always wins. A bare argument is resolved as DESIGN.md says: an
// existing file by its content, an existing directory by what it holds,
// anything else as an image name for the local engines and then a registry.
func ParseTarget(arg string) (Target, error) {
	if arg == "" {
		return Target{}, ErrNoTarget
	}
	for _, s := range schemes {
		if v, ok := strings.CutPrefix(arg, string(s)+":"); ok {
			if v == "" {
				return Target{}, fmt.Errorf("target %q: nothing after %q", arg, s+":")
			}
			return Target{Scheme: s, Value: v}, nil
		}
	}
	fi, err := os.Stat(arg)
	switch {
	case err == nil && fi.Mode().IsRegular():
		s, why, err := sniffFile(arg)
		if err != nil {
			return Target{}, fmt.Errorf("target %q: %w", arg, err)
		}
		return Target{Scheme: s, Value: arg, Resolved: true, Why: why}, nil
	case err == nil && fi.IsDir():
		s, why := sniffDir(arg)
		return Target{Scheme: s, Value: arg, Resolved: true, Why: why}, nil
	case err == nil:
		return Target{}, fmt.Errorf("target %q: not a regular file or directory", arg)
	case !errors.Is(err, os.ErrNotExist):
		return Target{}, fmt.Errorf("target %q: %w", arg, err)
	}
	if looksLikePath(arg) {
		return Target{}, fmt.Errorf("target %q: no such file or directory", arg)
	}
	return Target{Scheme: Engine, Value: arg, Resolved: true, Why: "not a file or directory: looked up as an image name in podman, docker, then a registry"}, nil
}

// looksLikePath reports whether arg can only be meant as a path: image
// references never start with '.' or '/' nor end in an archive suffix.
func looksLikePath(arg string) bool {
	if strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, "./") || strings.HasPrefix(arg, "../") || arg == "." || arg == ".." {
		return true
	}
	for _, suf := range []string{".tar", ".tar.gz", ".tgz"} {
		if strings.HasSuffix(arg, suf) {
			return true
		}
	}
	return false
}

// sniffFile decides what an existing file is: a tar holding manifest.json
// is a docker archive (newer docker save writes both manifest.json and
// oci-layout; manifest.json wins because it names the tags), one holding
// oci-layout an OCI archive, anything else a single file.
func sniffFile(path string) (Scheme, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	var hasManifest, hasLayout bool
	tr := tar.NewReader(f)
	for i := 0; ; i++ {
		h, err := tr.Next()
		if err != nil {
			break // not a tar, or its end: decide on what was seen
		}
		switch strings.TrimPrefix(h.Name, "./") {
		case "manifest.json":
			hasManifest = true
		case "oci-layout":
			hasLayout = true
		}
		if hasManifest || i > maxArchiveEntries {
			break
		}
	}
	switch {
	case hasManifest:
		return DockerArchive, "a tar holding manifest.json", nil
	case hasLayout:
		return OCIArchive, "a tar holding oci-layout", nil
	}
	return File, "a file that is not an image archive", nil
}

// sniffDir decides what an existing directory is.
func sniffDir(path string) (Scheme, string) {
	if _, err := os.Stat(filepath.Join(path, "oci-layout")); err == nil {
		return OCIDir, "a directory holding oci-layout"
	}
	if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
		return GoSource, "a directory holding go.mod"
	}
	if m, _ := filepath.Glob(filepath.Join(path, "*.go")); len(m) > 0 {
		return GoSource, "a directory holding Go files"
	}
	return Dir, "a directory: read as a root filesystem"
}

// closeFunc adapts a function to io.Closer.
type closeFunc func() error

func (f closeFunc) Close() error { return f() }

var _ io.Closer = closeFunc(nil)
