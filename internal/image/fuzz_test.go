package image_test

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/imagetest"
)

// fuzzSeeds are layer blobs that reach deep into the pass: whiteouts,
// opaque directories, links of both kinds, compressed streams.
func fuzzSeeds(f testing.TB) [][]byte {
	rich := imagetest.Tar(
		imagetest.Entry{Name: "etc/"},
		imagetest.Entry{Name: "etc/passwd", Body: []byte("root:x:0:0::/root:/bin/sh\n")},
		imagetest.Entry{Name: "etc/hosts", Type: tar.TypeLink, Link: "etc/passwd"},
		imagetest.Entry{Name: "etc/os-release", Type: tar.TypeSymlink, Link: "../usr/lib/os-release"},
		imagetest.Entry{Name: "usr/lib/os-release", Body: []byte("ID=test\n")},
		imagetest.Entry{Name: "bin/sh", Body: []byte("\x7fELF\x02\x01\x01"), Mode: 0o4755},
		imagetest.Entry{Name: "var/cache/.wh..wh..opq"},
		imagetest.Entry{Name: "var/.wh.log"},
		imagetest.Entry{Name: "opt/a", Size: 700},
		imagetest.Entry{Name: "dev/null", Type: tar.TypeChar},
	)
	pax := imagetest.Tar(
		imagetest.Entry{Name: "usr/bin/ping", Size: 64, PAX: map[string]string{"SCHILY.xattr.security.capability": "\x01\x00\x00\x02"}},
		imagetest.Entry{Name: "loop/a", Type: tar.TypeSymlink, Link: "b"},
		imagetest.Entry{Name: "loop/b", Type: tar.TypeSymlink, Link: "a"},
		imagetest.Entry{Name: "./x/../y", Body: []byte("y")},
	)
	return [][]byte{
		rich,
		pax,
		imagetest.Compress(rich, imagetest.Gzip),
		imagetest.Compress(pax, imagetest.Zstd),
		imagetest.Tar(imagetest.Entry{Name: "../escape", Body: []byte("x")}),
		sparseTar(f, 2, 4<<20),
		[]byte("this is not a tar stream, nor compressed"),
		{0x1f, 0x8b, 0x08, 0x00},
		{},
	}
}

// fuzzVisitors read every file, two at once, so the fan-out runs too.
type fuzzVisitor struct{ stopAfter int }

func (fuzzVisitor) Visit(e *image.Entry) bool { return e.Kind == image.KindFile }
func (v fuzzVisitor) Content(_ *image.Entry, r io.Reader) error {
	if v.stopAfter > 0 {
		_, err := io.CopyN(io.Discard, r, int64(v.stopAfter))
		if err == io.EOF {
			err = nil
		}
		return err
	}
	_, err := io.Copy(io.Discard, r)
	return err
}

func FuzzWalkLayer(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	// One layout directory per process, rewritten for each input: a fresh
	// temporary directory per input would cost more than the walk.
	dir := filepath.Join(f.TempDir(), "layout")
	f.Fuzz(func(t *testing.T, layer []byte) {
		// The fuzzer has no timeout per input: a hang would stall it
		// silently. Crash instead, with every stack, so that the input is
		// kept as a failure.
		watchdog := time.AfterFunc(10*time.Second, func() {
			buf := make([]byte, 1<<20)
			panic(fmt.Sprintf("FuzzWalkLayer: no result after 10s on %d bytes:\n%s", len(layer), buf[:runtime.Stack(buf, true)]))
		})
		defer watchdog.Stop()
		// The digest and diff ID describe the bytes as given, so
		// uncompressed input passes verification and reaches the tar
		// reader; compressed input fails the diff ID after the walk.
		files := layoutFiles(t, configFor(t, imagetest.Digest(layer)), descOf(mtTar, layer))
		if err := imagetest.WriteDir(dir, files); err != nil {
			t.Fatal(err)
		}
		defer func() {
			for _, f := range files {
				if strings.HasPrefix(f.Name, "blobs/") {
					os.Remove(filepath.Join(dir, filepath.FromSlash(f.Name)))
				}
			}
		}()
		ctx := context.Background()
		img, err := image.Open(ctx, image.Target{Scheme: image.OCIDir, Value: dir}, image.Options{})
		if err != nil {
			t.Fatalf("Open: %v", err) // the metadata is ours and valid
		}
		defer img.Close()
		res, err := image.Walk(ctx, img, image.PassOptions{Limits: image.Limits{TotalBytes: 8 << 20, Entries: 10000}},
			fuzzVisitor{}, fuzzVisitor{stopAfter: 3})
		if err != nil {
			return // any error is fine; a panic or a hang is not
		}
		tree := res.Tree
		err = tree.Walk(image.WalkOptions{}, func(h *image.PathHistory) error {
			p := h.Path
			if !strings.HasPrefix(p, "/") || strings.Contains(p+"/", "/../") || strings.Contains(p, "//") || strings.Contains(p+"/", "/./") {
				t.Errorf("Tree.Walk reports path %q", p)
			}
			// Resolution may fail (loops, dangling links) but must not
			// panic or climb out of the root.
			if fi, err := tree.Resolve(p); err == nil && (!strings.HasPrefix(fi.Path, "/") || strings.Contains(fi.Path+"/", "/../")) {
				t.Errorf("Resolve(%q) = %q", p, fi.Path)
			}
			tree.Lookup(p)
			tree.SubtreeBytes(p, 1, false)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		tree.Changes(0)
	})
}
