package image_test

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/imagetest"
)

// layered is an image that exercises every filesystem rule of the pass.
var layered = imagetest.Spec{
	Layers: []imagetest.Layer{
		{CreatedBy: "base", Entries: []imagetest.Entry{
			{Name: "etc/"},
			{Name: "etc/passwd", Body: []byte("root:x:0:0::/root:/bin/sh\n")},
			{Name: "etc/os-release", Type: tar.TypeSymlink, Link: "../usr/lib/os-release"},
			{Name: "usr/lib/os-release", Body: []byte("ID=test\n")},
			{Name: "var/cache/", Mode: 0o755},
			{Name: "var/cache/a.bin", Size: 1000},
			{Name: "var/cache/b.bin", Size: 2000},
			{Name: "opt/big", Size: 5000},
			{Name: "tmp/", Mode: 0o1777},
		}},
		{CreatedBy: "RUN rewrite", Comp: imagetest.Zstd, Entries: []imagetest.Entry{
			{Name: "opt/big", Size: 3000}, // modified: 5000 shadowed
			{Name: "opt/new", Size: 100},  // added
			{Name: "opt/link", Type: tar.TypeLink, Link: "opt/new"},
			{Name: "var/cache/.wh..wh..opq"},    // hides a.bin, b.bin
			{Name: "var/cache/c.bin", Size: 10}, // added in the opaque dir
		}},
		{CreatedBy: "RUN rm", Comp: imagetest.None, Entries: []imagetest.Entry{
			{Name: "opt/.wh.new", Type: tar.TypeReg}, // deletes opt/new (100 bytes)
			{Name: "etc/passwd", Body: []byte("root:x:0:0::/root:/sbin/nologin\n")},
		}},
	},
	User: "65532:65532",
}

func openBuilt(t *testing.T, spec imagetest.Spec, kind image.Scheme) *image.Image {
	t.Helper()
	b := imagetest.Build(spec)
	dir := t.TempDir()
	var target string
	switch kind {
	case image.DockerArchive:
		target = filepath.Join(dir, "img.tar")
		if err := b.WriteDockerArchive(target, "test:1"); err != nil {
			t.Fatal(err)
		}
	case image.OCIArchive:
		target = filepath.Join(dir, "img.oci.tar")
		if err := b.WriteOCIArchive(target, "test:1"); err != nil {
			t.Fatal(err)
		}
	case image.OCIDir:
		target = filepath.Join(dir, "layout")
		if err := b.WriteOCIDir(target, "test:1"); err != nil {
			t.Fatal(err)
		}
	}
	img, err := image.Open(context.Background(), image.Target{Scheme: kind, Value: target}, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	return img
}

func TestWalkResolvesLayers(t *testing.T) {
	for _, kind := range []image.Scheme{image.DockerArchive, image.OCIArchive, image.OCIDir} {
		t.Run(string(kind), func(t *testing.T) {
			img := openBuilt(t, layered, kind)
			res, err := image.Walk(context.Background(), img, image.PassOptions{})
			if err != nil {
				t.Fatal(err)
			}
			tree := res.Tree
			type view struct {
				Kind  string
				Size  int64
				Layer int
			}
			got := map[string]view{}
			err = tree.Walk(image.WalkOptions{}, func(h *image.PathHistory) error {
				if h.Final != nil {
					got[h.Path] = view{h.Final.Kind.String(), h.Final.Size, h.Final.Layer}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]view{
				"/etc":                {"dir", 0, 0},
				"/etc/passwd":         {"file", 32, 2},
				"/etc/os-release":     {"symlink", 0, 0},
				"/usr/lib/os-release": {"file", 8, 0},
				"/var/cache":          {"dir", 0, 0},
				"/var/cache/c.bin":    {"file", 10, 1},
				"/opt/big":            {"file", 3000, 1},
				"/opt/link":           {"hardlink", 0, 1},
				"/tmp":                {"dir", 0, 0},
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("final filesystem (-want +got):\n%s", d)
			}
			wantChanges := []image.Changes{
				{Added: 6}, // tmp/ and etc/ are directories: not counted
				{Added: 3, Modified: 1, Removed: 2, RemovedBytes: 3000},
				{Modified: 1, Removed: 1, RemovedBytes: 100},
			}
			for i, w := range wantChanges {
				if d := cmp.Diff(w, tree.Changes(i)); d != "" {
					t.Errorf("layer %d changes (-want +got):\n%s", i, d)
				}
			}
			fi, err := tree.Resolve("/etc/os-release")
			if err != nil || fi.Path != "/usr/lib/os-release" {
				t.Errorf("Resolve(/etc/os-release) = %v, %v; want /usr/lib/os-release", fi.Path, err)
			}
			if len(res.Layers) != 3 || res.Layers[1].Compression != "zstd" || res.Layers[2].Compression != "none" || res.Layers[0].Compression != "gzip" {
				t.Errorf("layer reads = %+v", res.Layers)
			}
			for i, l := range res.Layers {
				if l.UncompressedBytes != int64(len(imagetest.Build(layered).Layers[i].Tar)) {
					t.Errorf("layer %d uncompressed = %d, want %d", i, l.UncompressedBytes, len(imagetest.Build(layered).Layers[i].Tar))
				}
			}
		})
	}
}

func TestResolveLoop(t *testing.T) {
	img := openBuilt(t, imagetest.Spec{Layers: []imagetest.Layer{{Entries: []imagetest.Entry{
		{Name: "a", Type: tar.TypeSymlink, Link: "b"},
		{Name: "b", Type: tar.TypeSymlink, Link: "/a"},
	}}}}, image.OCIDir)
	res, err := image.Walk(context.Background(), img, image.PassOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = res.Tree.Resolve("/a")
	if !errors.Is(err, image.ErrLinkLoop) {
		t.Fatalf("Resolve loop: err = %v, want ErrLinkLoop", err)
	}
}

// contentVisitor collects the bytes of the files it wants.
type contentVisitor struct {
	want  string
	got   map[string]string
	limit int
}

func (v *contentVisitor) Visit(e *image.Entry) bool { return strings.HasPrefix(e.Path, v.want) }
func (v *contentVisitor) Content(e *image.Entry, r io.Reader) error {
	var b []byte
	var err error
	if v.limit > 0 {
		b = make([]byte, v.limit)
		n, _ := io.ReadFull(r, b)
		b = b[:n]
	} else {
		b, err = io.ReadAll(r)
	}
	v.got[e.Path+"@"+string(rune('0'+e.Layer))] = string(b)
	return err
}

func TestVisitorsGetContent(t *testing.T) {
	img := openBuilt(t, layered, image.OCIArchive)
	all := &contentVisitor{want: "/etc/passwd", got: map[string]string{}}
	same := &contentVisitor{want: "/etc/", got: map[string]string{}}
	short := &contentVisitor{want: "/opt/big", got: map[string]string{}, limit: 10}
	if _, err := image.Walk(context.Background(), img, image.PassOptions{}, all, same, short); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"/etc/passwd@0": "root:x:0:0::/root:/bin/sh\n",
		"/etc/passwd@2": "root:x:0:0::/root:/sbin/nologin\n",
	}
	if d := cmp.Diff(want, all.got); d != "" {
		t.Errorf("content (-want +got):\n%s", d)
	}
	if d := cmp.Diff(want, same.got); d != "" {
		t.Errorf("fan-out content (-want +got):\n%s", d)
	}
	if got := short.got["/opt/big@0"]; got != string(imagetest.Pattern(5000)[:10]) {
		t.Errorf("early-stopping visitor got %q", got)
	}
}

func TestDirTarget(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	os.WriteFile(filepath.Join(dir, "etc", "hostname"), []byte("box\n"), 0o644)
	os.Symlink("/etc/hostname", filepath.Join(dir, "name"))
	os.Link(filepath.Join(dir, "etc", "hostname"), filepath.Join(dir, "etc", "hn2"))
	tgt, err := image.ParseTarget(dir)
	if err != nil || tgt.Scheme != image.Dir {
		t.Fatalf("ParseTarget(dir) = %+v, %v", tgt, err)
	}
	img, err := image.Open(context.Background(), tgt, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	v := &contentVisitor{want: "/etc/h", got: map[string]string{}}
	res, err := image.Walk(context.Background(), img, image.PassOptions{}, v)
	if err != nil {
		t.Fatal(err)
	}
	// Two names of one inode: the first in lexical order carries the
	// bytes, the second is a hard link to it.
	if d := cmp.Diff(map[string]string{"/etc/hn2@0": "box\n"}, v.got); d != "" {
		t.Errorf("content (-want +got):\n%s", d)
	}
	fi, err := res.Tree.Resolve("/name")
	if err != nil || fi.Path != "/etc/hostname" || fi.Kind != image.KindHardlink || fi.Link != "/etc/hn2" {
		t.Errorf("Resolve(/name) = %+v, %v", fi, err)
	}
}
