package build_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/redline-go/redline/internal/build"
	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/sbom/encode"
	"github.com/redline-go/redline/internal/sbom/inventory"
)

// pairAttacher runs the SBOM attacher and, beside it, the pass over the
// staged image that the attacher skips for redline's own bases.
type pairAttacher struct {
	t      *testing.T
	got    []build.Attachment
	walked [][]byte
}

func (a *pairAttacher) Attach(ctx context.Context, b *build.Built) ([]build.Attachment, error) {
	atts, err := inventory.SBOMAttacher{}.Attach(ctx, b)
	if err != nil {
		return nil, err
	}
	a.got = atts
	for _, p := range b.Platforms {
		plat := p.Platform
		s, err := inventory.Image(ctx, image.Target{Scheme: image.OCIDir, Value: b.Layout}, image.Options{Platform: &plat}, image.PassOptions{})
		if err != nil {
			return nil, err
		}
		s.Subject.Ref = "oci:" + p.Digest.String()
		var buf bytes.Buffer
		if err := encode.CycloneDXJSON(&buf, s); err != nil {
			return nil, err
		}
		a.walked = append(a.walked, buf.Bytes())
	}
	return atts, nil
}

// TestSBOMAttacherEqualsPass: on the static and scratch bases the attacher
// reads the binary from disk instead of walking the layers; its SBOM must
// be byte for byte the one the walk gives.
func TestSBOMAttacherEqualsPass(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a module: not in -short")
	}
	src := copyTestModule(t, "hello")
	cache := t.TempDir()
	for _, tc := range []struct {
		name string
		o    build.Options
	}{
		{"static", build.Options{}},
		{"scratch", build.Options{Base: build.BaseScratch}},
		{"static, cap, volume, version", build.Options{Caps: []build.Capability{build.CapNetBindService}, Volumes: []string{"/data"}, Version: "v1.2.3", Tag: "example.com/hello:dev"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.Dir, o.TempDir, o.CacheDir, o.SkipDefaultSize = src, t.TempDir(), cache, true
			o.To = []build.Destination{{Kind: build.OCIDir, Value: filepath.Join(t.TempDir(), "out")}}
			pa := &pairAttacher{t: t}
			o.Attachers = []build.Attacher{pa}
			buildOnce(t, o)
			if len(pa.got) != 1 || len(pa.walked) != 1 {
				t.Fatalf("%d attachments, %d walked SBOMs; want 1 each", len(pa.got), len(pa.walked))
			}
			if diff := cmp.Diff(string(pa.walked[0]), string(pa.got[0].Data)); diff != "" {
				t.Errorf("the attacher's SBOM differs from the pass over the image (-pass +attacher):\n%s", diff)
			}
			if !bytes.Contains(pa.got[0].Data, []byte(`"bin:/usr/local/bin/hello"`)) {
				t.Errorf("the SBOM does not list the binary:\n%s", pa.got[0].Data)
			}
		})
	}
}

// buildOnce builds with o and closes the builder.
func buildOnce(t *testing.T, o build.Options) {
	t.Helper()
	b, err := build.New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Build(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func copyTestModule(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join("testdata", name)
	dst := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestSBOMAttachmentsReproducible: with a --base image and two platforms
// the attacher walks each platform's image in the staging layout. Two
// builds of the same source, staged in different directories, must attach
// the same bytes: nothing of the staging path may leak into the SBOM.
func TestSBOMAttachmentsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a module for two platforms: not in -short")
	}
	src := copyTestModule(t, "hello")
	cache := t.TempDir()
	plats := []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}}
	build1 := func(o build.Options) {
		t.Helper()
		o.Dir, o.TempDir, o.CacheDir, o.SkipDefaultSize, o.Platforms = src, t.TempDir(), cache, true, plats
		buildOnce(t, o)
	}
	// The base: a two-platform image of redline's own making.
	base := filepath.Join(t.TempDir(), "base")
	build1(build.Options{To: []build.Destination{{Kind: build.OCIDir, Value: base}}})
	var got [2]*pairAttacher
	for i := range got {
		got[i] = &pairAttacher{t: t}
		build1(build.Options{
			Base: "oci-dir:" + base, Tag: "example.com/hello:dev", Attachers: []build.Attacher{got[i]},
			To: []build.Destination{{Kind: build.OCIDir, Value: filepath.Join(t.TempDir(), "out")}},
		})
	}
	if len(got[0].got) != 2 || len(got[1].got) != 2 {
		t.Fatalf("%d and %d SBOMs attached, want one per platform", len(got[0].got), len(got[1].got))
	}
	for i := range got[0].got {
		first, second := got[0].got[i].Data, got[1].got[i].Data
		if diff := cmp.Diff(string(first), string(second)); diff != "" {
			t.Errorf("platform %s: the two builds attached different SBOMs (-first +second):\n%s", plats[i], diff)
		}
		if tmp := os.TempDir(); bytes.Contains(first, []byte(tmp)) {
			t.Errorf("platform %s: the SBOM names a path under %s:\n%s", plats[i], tmp, first)
		}
		if !bytes.Contains(first, []byte(`"bin:/usr/local/bin/hello"`)) {
			t.Errorf("platform %s: the SBOM does not list the binary", plats[i])
		}
	}
}
