package image_test

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

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

// bigLayers is two gzip layers of large files, so that every stage of the
// pass (blob readahead, decompressor, tar) holds buffers in flight.
var bigLayers = imagetest.Spec{Layers: []imagetest.Layer{
	{Entries: []imagetest.Entry{{Name: "bin/"}, {Name: "bin/a", Size: 6 << 20}, {Name: "bin/b", Size: 3 << 20}}},
	{Entries: []imagetest.Entry{{Name: "opt/c", Size: 6 << 20}, {Name: "opt/d", Size: 1 << 20}}},
}}

// failingVisitor reads part of a file, then fails or cancels the pass.
type failingVisitor struct {
	at     string
	cancel context.CancelFunc
}

var errVisitor = errors.New("visitor gives up")

func (v *failingVisitor) Visit(e *image.Entry) bool { return e.Kind == image.KindFile }
func (v *failingVisitor) Content(e *image.Entry, r io.Reader) error {
	if e.Path != v.at {
		_, err := io.Copy(io.Discard, r)
		return err
	}
	if _, err := io.CopyN(io.Discard, r, 1<<20); err != nil {
		return err
	}
	if v.cancel != nil {
		v.cancel()
		return nil
	}
	return errVisitor
}

// The pass runs each layer on several goroutines; whichever way it ends,
// none of them may outlive Walk.
func TestWalkStopsItsGoroutines(t *testing.T) {
	built := imagetest.Build(bigLayers)
	layout := func(t *testing.T, corrupt int) image.Target {
		dir := filepath.Join(t.TempDir(), "layout")
		if err := built.WriteOCIDir(dir, ""); err != nil {
			t.Fatal(err)
		}
		if corrupt >= 0 {
			l := built.Layers[corrupt]
			p := filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(l.Digest, "sha256:"))
			b := append([]byte(nil), l.Blob...)
			b[len(b)/2] ^= 0xff
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return image.Target{Scheme: image.OCIDir, Value: dir}
	}
	for _, c := range []struct {
		name    string
		corrupt int // layer blob to damage, -1 none
		at      string
		cancel  bool
		want    func(error) bool
	}{
		{"visitor error", -1, "/bin/a", false, func(err error) bool { return errors.Is(err, errVisitor) }},
		{"visitor error in the last layer", -1, "/opt/c", false, func(err error) bool { return errors.Is(err, errVisitor) }},
		{"cancelled", -1, "/bin/b", true, func(err error) bool { return errors.Is(err, context.Canceled) }},
		{"corrupt first blob", 0, "", false, func(err error) bool { var de *image.DigestError; return errors.As(err, &de) }},
		{"corrupt second blob", 1, "", false, func(err error) bool { var de *image.DigestError; return errors.As(err, &de) }},
		{"clean", -1, "", false, func(err error) bool { return err == nil }},
	} {
		t.Run(c.name, func(t *testing.T) {
			tgt := layout(t, c.corrupt)
			before := runtime.NumGoroutine()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			img, err := image.Open(ctx, tgt, image.Options{})
			if err != nil {
				t.Fatal(err)
			}
			v := &failingVisitor{at: c.at}
			if c.cancel {
				v.cancel = cancel
			}
			_, err = image.Walk(ctx, img, image.PassOptions{}, v)
			img.Close()
			if !c.want(err) {
				t.Fatalf("Walk: unexpected error %v", err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for runtime.NumGoroutine() > before {
				if time.Now().After(deadline) {
					buf := make([]byte, 1<<16)
					t.Fatalf("%d goroutines after Walk, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// orderVisitor records what it is offered, and reads every file whole.
type orderVisitor struct {
	seen []string
	sums map[string]int64
}

func (v *orderVisitor) LayerStart(l *image.Layer) error {
	v.seen = append(v.seen, fmt.Sprintf("layer %d", l.Index))
	return nil
}
func (v *orderVisitor) Visit(e *image.Entry) bool {
	v.seen = append(v.seen, fmt.Sprintf("%d %s", e.Layer, e.Path))
	return e.Kind == image.KindFile
}
func (v *orderVisitor) Content(e *image.Entry, r io.Reader) error {
	n, err := io.Copy(io.Discard, r)
	v.sums[e.Path] += n
	return err
}

// Visitors see layers in order and each layer's entries in tar order, with
// every file's bytes, while the stages of the pass run ahead of them.
func TestWalkOrderWithReadahead(t *testing.T) {
	img := openBuilt(t, bigLayers, image.OCIDir)
	v := &orderVisitor{sums: map[string]int64{}}
	w2 := &orderVisitor{sums: map[string]int64{}}
	res, err := image.Walk(context.Background(), img, image.PassOptions{}, v, w2)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"layer 0", "0 /bin", "0 /bin/a", "0 /bin/b", "layer 1", "1 /opt/c", "1 /opt/d"}
	if d := cmp.Diff(want, v.seen); d != "" {
		t.Errorf("order (-want +got):\n%s", d)
	}
	sums := map[string]int64{"/bin/a": 6 << 20, "/bin/b": 3 << 20, "/opt/c": 6 << 20, "/opt/d": 1 << 20}
	if d := cmp.Diff(sums, v.sums); d != "" {
		t.Errorf("content bytes (-want +got):\n%s", d)
	}
	if d := cmp.Diff(sums, w2.sums); d != "" {
		t.Errorf("fan-out content bytes (-want +got):\n%s", d)
	}
	for i, l := range res.Layers {
		if want := int64(len(imagetest.Build(bigLayers).Layers[i].Blob)); l.CompressedBytes != want {
			t.Errorf("layer %d: compressed bytes %d, want %d", i, l.CompressedBytes, want)
		}
	}
}

// BenchmarkWalkContent measures the pass over two gzip layers of large
// files with a visitor that reads every file whole, as the Go binary
// cataloger does. Bytes/s are uncompressed tar bytes.
func BenchmarkWalkContent(b *testing.B) {
	spec := imagetest.Spec{}
	for l := range 2 {
		var es []imagetest.Entry
		for i := range 8 {
			es = append(es, imagetest.Entry{Name: fmt.Sprintf("l%d/f%d", l, i), Size: 4 << 20})
		}
		spec.Layers = append(spec.Layers, imagetest.Layer{Entries: es})
	}
	built := imagetest.Build(spec)
	dir := filepath.Join(b.TempDir(), "layout")
	if err := built.WriteOCIDir(dir, ""); err != nil {
		b.Fatal(err)
	}
	var tarBytes int64
	for _, l := range built.Layers {
		tarBytes += int64(len(l.Tar))
	}
	b.SetBytes(tarBytes)
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		img, err := image.Open(ctx, image.Target{Scheme: image.OCIDir, Value: dir}, image.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := image.Walk(ctx, img, image.PassOptions{}, &orderVisitor{sums: map[string]int64{}}); err != nil {
			b.Fatal(err)
		}
		img.Close()
	}
}

// hashVisitor records the order of layers and entries and a digest of
// every file's bytes.
type hashVisitor struct{ seen []string }

func (v *hashVisitor) LayerStart(l *image.Layer) error {
	v.seen = append(v.seen, fmt.Sprintf("layer %d", l.Index))
	return nil
}
func (v *hashVisitor) Visit(e *image.Entry) bool { return e.Kind == image.KindFile }
func (v *hashVisitor) Content(e *image.Entry, r io.Reader) error {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return err
	}
	v.seen = append(v.seen, fmt.Sprintf("%d %s %x", e.Layer, e.Path, h.Sum(nil)))
	return nil
}

// The next layer inflated ahead into a spool — all of it, a part of it
// then the live stream, or not at all — gives the same walk: the same
// order, the same bytes, the same layer results and the same tree.
func TestPrefetchGivesTheSameWalk(t *testing.T) {
	spec := imagetest.Spec{Layers: append(append([]imagetest.Layer{}, bigLayers.Layers...),
		imagetest.Layer{Entries: []imagetest.Entry{{Name: "bin/.wh.b"}, {Name: "etc/conf", Body: []byte("v=1\n")}}},
		imagetest.Layer{Comp: imagetest.Zstd, Entries: []imagetest.Entry{{Name: "opt/e", Size: 2 << 20}}},
	)}
	walk := func(prefetch int64) ([]string, []image.LayerRead, int) {
		img := openBuilt(t, spec, image.OCIDir)
		v := &hashVisitor{}
		res, err := image.Walk(context.Background(), img, image.PassOptions{PrefetchBytes: prefetch}, v)
		if err != nil {
			t.Fatalf("prefetch %d: %v", prefetch, err)
		}
		return v.seen, res.Layers, res.Tree.Nodes()
	}
	wantSeen, wantLayers, wantNodes := walk(-1)
	for _, p := range []int64{0, 64 << 10, 1} {
		seen, ls, nodes := walk(p)
		if d := cmp.Diff(wantSeen, seen); d != "" {
			t.Errorf("prefetch %d: entries (-off +on):\n%s", p, d)
		}
		if d := cmp.Diff(wantLayers, ls); d != "" {
			t.Errorf("prefetch %d: layers (-off +on):\n%s", p, d)
		}
		if nodes != wantNodes {
			t.Errorf("prefetch %d: %d tree nodes, want %d", p, nodes, wantNodes)
		}
	}
}

// TestPrefetchStillChecksTheDiffID: the spool's producer hashes what it
// inflates ahead, so a lying diff ID must be caught whether the layer came
// whole from the spool, partly from it and partly live, or live.
func TestPrefetchStillChecksTheDiffID(t *testing.T) {
	spec := imagetest.Spec{Layers: []imagetest.Layer{
		{Entries: []imagetest.Entry{{Name: "etc/os-release", Body: []byte("ID=test\n")}}},
		{Entries: []imagetest.Entry{{Name: "opt/big", Size: 1 << 20}, {Name: "opt/small", Body: []byte("x")}}},
	}}
	lie := imagetest.Digest([]byte("not this layer"))
	b := imagetest.Build(spec).WithConfig(func(cfg map[string]any) {
		cfg["rootfs"].(map[string]any)["diff_ids"].([]any)[1] = lie
	})
	target := filepath.Join(t.TempDir(), "layout")
	if err := b.WriteOCIDir(target, "test:1"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []int64{-1, 0, 64 << 10, 1} {
		img, err := image.Open(context.Background(), image.Target{Scheme: image.OCIDir, Value: target}, image.Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = image.Walk(context.Background(), img, image.PassOptions{PrefetchBytes: p}, &hashVisitor{})
		if err == nil {
			t.Fatalf("prefetch %d: the walk took a layer whose diff ID lies", p)
		}
		t.Run(fmt.Sprint(p), func(t *testing.T) { digestErr("diff ID", lie)(t, err) })
	}
}
