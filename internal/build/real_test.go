package build

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// These tests run the real go command on the tiny modules of testdata
// (no dependencies, so no network). Each module is copied out of the
// repository first, so no VCS data from this checkout leaks in.

func copyModule(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join("testdata", name)
	dst := filepath.Join(t.TempDir(), name)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func realBuild(t *testing.T, o Options) (*Result, error) {
	t.Helper()
	o.TempDir = t.TempDir()
	if o.CacheDir == "" {
		o.CacheDir = t.TempDir()
	}
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	return b.Build(context.Background())
}

// TestReproducible builds the same source twice, with separate work and
// cache directories: the image digest and the archive bytes are the same.
func TestReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a module: not in -short")
	}
	src := copyModule(t, "hello")
	out := t.TempDir()
	var digests []string
	var archives [][]byte
	for i := range 2 {
		archive := filepath.Join(out, "hello"+string(rune('a'+i))+".tar")
		res, err := realBuild(t, Options{Dir: src, Caps: []Capability{CapNetBindService}, Volumes: []string{"/data"}, To: []Destination{{Kind: OCIArchive, Value: archive}}})
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(archive)
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, res.Digest)
		archives = append(archives, b)
		bin := res.Platforms[0].Binary
		if !bin.Static || bin.Bytes == 0 || bin.DefaultFlagsBytes <= bin.Bytes || !strings.HasPrefix(bin.GoVersion, "go1.") {
			t.Errorf("binary %+v: want static, smaller than the default-flags build", bin)
		}
		if res.CreatedSource != "Unix epoch (no SOURCE_DATE_EPOCH, no VCS)" || !res.Created.Equal(time.Unix(0, 0)) {
			t.Errorf("created %v (%s)", res.Created, res.CreatedSource)
		}
	}
	if digests[0] != digests[1] {
		t.Errorf("two builds of the same source: %s and %s", digests[0], digests[1])
	}
	if !bytes.Equal(archives[0], archives[1]) {
		t.Error("two builds of the same source wrote different oci-archive bytes")
	}
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	res, err := realBuild(t, Options{Dir: src, Caps: []Capability{CapNetBindService}, Volumes: []string{"/data"}, SourceDateEpoch: &epoch, SkipDefaultSize: true, To: []Destination{{Kind: OCIDir, Value: filepath.Join(out, "epoch")}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Digest == digests[0] || !res.Created.Equal(epoch) {
		t.Errorf("SOURCE_DATE_EPOCH changed nothing: %s, created %v", res.Digest, res.Created)
	}
}

func TestRealBuildErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command: not in -short")
	}
	for _, tc := range []struct {
		module, msg string
	}{
		{"lib", "is package lib, not a main package"},
		{"broken", "undefined: notDefined"},
	} {
		out := filepath.Join(t.TempDir(), "out")
		_, err := realBuild(t, Options{Dir: copyModule(t, tc.module), To: []Destination{{Kind: OCIDir, Value: out}}})
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: err = %v, want %q", tc.module, err, tc.msg)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: output written", tc.module)
		}
	}
	_, err := realBuild(t, Options{Dir: copyModule(t, "hello"), Package: "./nothing-here", To: []Destination{{Kind: OCIDir, Value: filepath.Join(t.TempDir(), "o")}}})
	if err == nil || !strings.Contains(err.Error(), "nothing-here") {
		t.Errorf("missing package: %v", err)
	}
}

// TestVersionFromGit: a tagged commit gives the binary its version through
// -buildvcs, and the commit time is the image's time.
func TestVersionFromGit(t *testing.T) {
	if testing.Short() {
		t.Skip("runs git and the go command: not in -short")
	}
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	src := copyModule(t, "hello")
	run := func(args ...string) string {
		cmd := exec.Command(git, append([]string{"-c", "user.name=redline", "-c", "user.email=redline@example.com", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"}, args...)...)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE=2026-02-03T04:05:06Z", "GIT_COMMITTER_DATE=2026-02-03T04:05:06Z")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("init", "-q")
	run("add", ".")
	run("commit", "-q", "-m", "hello")
	run("tag", "v1.2.3")
	rev := run("rev-parse", "HEAD")
	res, err := realBuild(t, Options{Dir: src, SkipDefaultSize: true, To: []Destination{{Kind: OCIDir, Value: filepath.Join(t.TempDir(), "o")}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != "v1.2.3" || res.VersionSource != "vcs" || res.Labels[LabelVersion] != "v1.2.3" || res.Labels[AnnotationVersion] != "v1.2.3" {
		t.Errorf("version %q (%s), labels %v", res.Version, res.VersionSource, res.Labels)
	}
	if res.Labels[AnnotationRevision] != rev || res.Platforms[0].Binary.Revision != rev {
		t.Errorf("revision %q, want %s", res.Labels[AnnotationRevision], rev)
	}
	if want := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC); !res.Created.Equal(want) || res.CreatedSource != "vcs commit time" {
		t.Errorf("created %v (%s), want the commit time %v", res.Created, res.CreatedSource, want)
	}
	if len(res.Warnings) != 0 {
		t.Errorf("warnings %q", res.Warnings)
	}
}
