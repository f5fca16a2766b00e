package image_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/imagetest"
	"github.com/redline-go/redline/internal/layers"
)

// Media types the hand-written layouts use.
const (
	mtManifest = "application/vnd.oci.image.manifest.v1+json"
	mtIndex    = "application/vnd.oci.image.index.v1+json"
	mtConfig   = "application/vnd.oci.image.config.v1+json"
	mtTar      = "application/vnd.oci.image.layer.v1.tar"
	mtTarGzip  = "application/vnd.oci.image.layer.v1.tar+gzip"
	mtTarZstd  = "application/vnd.oci.image.layer.v1.tar+zstd"
)

func hexOf(d string) string { return strings.TrimPrefix(d, "sha256:") }

func blobName(d string) string { return "blobs/sha256/" + hexOf(d) }

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// layerDesc is a layer of a hand-written layout: the descriptor the
// manifest lists and the bytes stored under blobs/ (nil: store nothing).
type layerDesc struct {
	MediaType string
	Digest    string
	Size      int64
	Blob      []byte
}

// descOf describes blob truthfully.
func descOf(mt string, blob []byte) layerDesc {
	return layerDesc{MediaType: mt, Digest: imagetest.Digest(blob), Size: int64(len(blob)), Blob: blob}
}

// configFor is a minimal image config carrying diffIDs.
func configFor(t testing.TB, diffIDs ...string) []byte {
	if diffIDs == nil {
		diffIDs = []string{}
	}
	return mustJSON(t, map[string]any{
		"architecture": "amd64", "os": "linux",
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
}

// layoutFiles writes the files of an OCI layout around a config and
// layers whose descriptors may lie; manifest and index are recomputed.
func layoutFiles(t testing.TB, config []byte, layers ...layerDesc) []imagetest.File {
	var ls []map[string]any
	files := []imagetest.File{{Name: "oci-layout", Body: []byte(`{"imageLayoutVersion":"1.0.0"}`)}}
	for _, l := range layers {
		ls = append(ls, map[string]any{"mediaType": l.MediaType, "digest": l.Digest, "size": l.Size})
		if l.Blob != nil {
			files = append(files, imagetest.File{Name: blobName(l.Digest), Body: l.Blob})
		}
	}
	if ls == nil {
		ls = []map[string]any{}
	}
	manifest := mustJSON(t, map[string]any{
		"schemaVersion": 2, "mediaType": mtManifest,
		"config": map[string]any{"mediaType": mtConfig, "digest": imagetest.Digest(config), "size": len(config)},
		"layers": ls,
	})
	files = append(files,
		imagetest.File{Name: blobName(imagetest.Digest(config)), Body: config},
		imagetest.File{Name: blobName(imagetest.Digest(manifest)), Body: manifest},
		imagetest.File{Name: "index.json", Body: indexOf(t, mtManifest, imagetest.Digest(manifest), len(manifest))},
	)
	return files
}

func indexOf(t testing.TB, mt, digest string, size int) []byte {
	return mustJSON(t, map[string]any{
		"schemaVersion": 2, "mediaType": mtIndex,
		"manifests": []any{map[string]any{"mediaType": mt, "digest": digest, "size": size}},
	})
}

// write stores files as the given kind of target under a fresh directory.
func write(t *testing.T, files []imagetest.File, kind image.Scheme) image.Target {
	t.Helper()
	dir := t.TempDir()
	var p string
	var err error
	switch kind {
	case image.OCIDir:
		p = filepath.Join(dir, "layout")
		err = imagetest.WriteDir(p, files)
	case image.DockerArchive, image.OCIArchive:
		p = filepath.Join(dir, "img.tar")
		err = imagetest.WriteTar(p, files)
	default:
		t.Fatalf("write: unsupported kind %s", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	return image.Target{Scheme: kind, Value: p}
}

// filesOf returns the files of b as kind stores them.
func filesOf(b *imagetest.Built, kind image.Scheme) []imagetest.File {
	if kind == image.DockerArchive {
		return b.ArchiveFiles("test:1")
	}
	return b.LayoutFiles("test:1")
}

func without(files []imagetest.File, name string) []imagetest.File {
	var out []imagetest.File
	for _, f := range files {
		if f.Name != name {
			out = append(out, f)
		}
	}
	return out
}

func replaced(files []imagetest.File, name string, body []byte) []imagetest.File {
	out := append([]imagetest.File(nil), files...)
	for i := range out {
		if out[i].Name == name {
			out[i].Body = body
			return out
		}
	}
	panic("replaced: no file " + name)
}

func flipped(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x55
	return c
}

// cutArchive writes files as a tar and cuts it in the middle of blob.
func cutArchive(t *testing.T, files []imagetest.File, kind image.Scheme, blob []byte) image.Target {
	t.Helper()
	tgt := write(t, files, kind)
	raw, err := os.ReadFile(tgt.Value)
	if err != nil {
		t.Fatal(err)
	}
	off := bytes.Index(raw, blob)
	if off < 0 {
		t.Fatal("cutArchive: blob not found in the archive")
	}
	if err := os.WriteFile(tgt.Value, raw[:off+len(blob)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	return tgt
}

// bigLayer is a layer with one incompressible-enough file, so that a cut
// in its blob lands inside the file's bytes. It spans several zstd blocks
// (128 KiB each): a cut zstd stream yields the blocks before the cut.
var bigLayer = []imagetest.Entry{{Name: "etc/"}, {Name: "etc/big", Size: 512 << 10}}

func bigSpec(comp imagetest.Compression) imagetest.Spec {
	return imagetest.Spec{Layers: []imagetest.Layer{{Comp: comp, Raw: imagetest.Tar(bigLayer...)}}}
}

// twoLayers puts entries in the second layer above a harmless base.
func twoLayers(entries ...imagetest.Entry) imagetest.Spec {
	return imagetest.Spec{Layers: []imagetest.Layer{
		{Entries: []imagetest.Entry{{Name: "etc/"}, {Name: "etc/hostname", Body: []byte("box\n")}}},
		{Entries: entries},
	}}
}

// wantContent is a visitor that reads every file whole.
type wantContent struct{}

func (wantContent) Visit(*image.Entry) bool { return true }
func (wantContent) Content(_ *image.Entry, r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

// hostileCase is one bad input and the error it must produce.
type hostileCase struct {
	name string
	// input writes the bad image; opts and pass default to zero values.
	input func(t *testing.T) image.Target
	opts  image.Options
	pass  image.PassOptions
	vis   []image.Visitor
	// atOpen: the error comes from Open; otherwise Open succeeds and Walk
	// fails.
	atOpen bool
	// is and as, when set, classify the error.
	is error
	as func(t *testing.T, err error)
	// mention lists what the message must hold besides the target path:
	// "layer N", entry names, blob names.
	mention []string
}

func run(t *testing.T, c hostileCase) {
	t.Helper()
	tgt := c.input(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	img, err := image.Open(ctx, tgt, c.opts)
	if err == nil {
		defer img.Close()
		if c.atOpen {
			t.Fatalf("Open succeeded; want an error")
		}
		_, err = image.Walk(ctx, img, c.pass, c.vis...)
		if err == nil {
			t.Fatalf("Walk succeeded on bad input")
		}
	} else if !c.atOpen {
		t.Fatalf("Open: %v; want it to succeed and Walk to fail", err)
	}
	t.Logf("error: %v", err)
	if ctx.Err() != nil {
		t.Fatalf("took too long: %v", err)
	}
	if c.is != nil && !errors.Is(err, c.is) {
		t.Errorf("errors.Is(err, %v) = false; err = %v", c.is, err)
	}
	if c.as != nil {
		c.as(t, err)
	}
	msg := err.Error()
	for _, m := range append([]string{tgt.Value}, c.mention...) {
		if !strings.Contains(msg, m) {
			t.Errorf("error does not mention %q: %v", m, msg)
		}
	}
}

// walkAll opens tgt and walks it, every file's bytes read; a failure of
// either ends the test. The image is closed when the test ends.
func walkAll(t *testing.T, tgt image.Target) (*image.Image, *image.Result) {
	t.Helper()
	img, err := image.Open(context.Background(), tgt, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	res, err := image.Walk(context.Background(), img, image.PassOptions{}, wantContent{})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	return img, res
}

func digestErr(what, want string) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var de *image.DigestError
		if !errors.As(err, &de) {
			t.Fatalf("err = %v; want a *image.DigestError", err)
		}
		if de.What != what {
			t.Errorf("DigestError.What = %q, want %q", de.What, what)
		}
		if want != "" && de.Want.String() != want {
			t.Errorf("DigestError.Want = %s, want %s", de.Want, want)
		}
	}
}

func limitErr(flag string) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var le *image.LimitError
		if !errors.As(err, &le) {
			t.Fatalf("err = %v; want an *image.LimitError", err)
		}
		if le.Flag != flag {
			t.Errorf("LimitError.Flag = %q, want %q", le.Flag, flag)
		}
		if !strings.Contains(err.Error(), flag) {
			t.Errorf("message does not name %s: %v", flag, err)
		}
	}
}

func errAs[E error](t *testing.T, err error) {
	t.Helper()
	var e E
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T); want a %T in its chain", err, err, e)
	}
}

func TestTruncated(t *testing.T) {
	gz := imagetest.Build(bigSpec(imagetest.Gzip))
	plain := imagetest.Build(bigSpec(imagetest.None))
	zst := imagetest.Build(bigSpec(imagetest.Zstd))
	// A second layer, so that "layer 1" is what the error must name.
	two := imagetest.Build(imagetest.Spec{Layers: []imagetest.Layer{
		{Entries: []imagetest.Entry{{Name: "a", Body: []byte("a\n")}}},
		{Raw: imagetest.Tar(bigLayer...)},
	}})
	// manifestFirst orders a docker archive as newer engines may: metadata
	// before the layers, so a cut layer is the first thing missing.
	manifestFirst := func(b *imagetest.Built) []imagetest.File {
		fs := b.ArchiveFiles("test:1")
		n := len(fs)
		return append([]imagetest.File{fs[n-1], fs[n-2]}, fs[:n-2]...)
	}
	// cutLayout keeps the manifest honest about a cut blob: its size and
	// digest describe the cut bytes, only the config's diff ID describes
	// the whole tar.
	cutLayout := func(t *testing.T, b *imagetest.Built, mt string, keep int) image.Target {
		l := b.Layers[0]
		return write(t, layoutFiles(t, configFor(t, l.DiffID), descOf(mt, l.Blob[:keep])), image.OCIDir)
	}
	cases := []hostileCase{
		{
			// The cut takes manifest.json with it: the archive cannot say
			// which layer the cut blob was, only which file.
			name: "docker-archive cut in a layer blob",
			input: func(t *testing.T) image.Target {
				return cutArchive(t, gz.ArchiveFiles("test:1"), image.DockerArchive, gz.Layers[0].Blob)
			},
			atOpen:  true,
			is:      image.ErrTruncated,
			mention: []string{hexOf(gz.Layers[0].Digest) + ".tar.gz"},
		},
		{
			name: "docker-archive with manifest first, cut in layer 1",
			input: func(t *testing.T) image.Target {
				return cutArchive(t, manifestFirst(two), image.DockerArchive, two.Layers[1].Blob)
			},
			atOpen:  true,
			is:      image.ErrTruncated,
			mention: []string{"layer 1", hexOf(two.Layers[1].Digest) + ".tar.gz"},
		},
		{
			name: "docker-archive uncompressed, cut in a layer blob",
			input: func(t *testing.T) image.Target {
				return cutArchive(t, manifestFirst(plain), image.DockerArchive, plain.Layers[0].Blob)
			},
			atOpen:  true,
			is:      image.ErrTruncated,
			mention: []string{"layer 0", hexOf(plain.Layers[0].DiffID) + "/layer.tar"},
		},
		{
			name: "oci-archive cut in a layer blob",
			input: func(t *testing.T) image.Target {
				return cutArchive(t, two.LayoutFiles("x"), image.OCIArchive, two.Layers[1].Blob)
			},
			is:      image.ErrTruncated,
			mention: []string{"layer 1", hexOf(two.Layers[1].Digest)},
		},
		{
			// Only the blob file changes: the manifest's size no longer
			// matches.
			name: "oci-dir gzip blob rewritten shorter",
			input: func(t *testing.T) image.Target {
				l := gz.Layers[0]
				return write(t, replaced(gz.LayoutFiles(""), blobName(l.Digest), l.Blob[:len(l.Blob)/2]), image.OCIDir)
			},
			is:      image.ErrTruncated,
			mention: []string{"layer 0", gz.Layers[0].Digest},
		},
		{
			name:    "oci-dir cut gzip stream, manifest describes the cut blob",
			input:   func(t *testing.T) image.Target { return cutLayout(t, gz, mtTarGzip, len(gz.Layers[0].Blob)/2) },
			is:      image.ErrTruncated,
			mention: []string{"layer 0", `"etc/big"`},
		},
		{
			name:    "oci-dir cut gzip stream, a visitor reads the cut file",
			input:   func(t *testing.T) image.Target { return cutLayout(t, gz, mtTarGzip, len(gz.Layers[0].Blob)/2) },
			vis:     []image.Visitor{wantContent{}},
			is:      image.ErrTruncated,
			mention: []string{"layer 0", `"etc/big"`},
		},
		{
			name:    "oci-dir gzip stream without its trailer",
			input:   func(t *testing.T) image.Target { return cutLayout(t, gz, mtTarGzip, len(gz.Layers[0].Blob)-4) },
			is:      image.ErrTruncated,
			mention: []string{"layer 0", "gzip"},
		},
		{
			name:    "oci-dir gzip stream cut in its header",
			input:   func(t *testing.T) image.Target { return cutLayout(t, gz, mtTarGzip, 6) },
			is:      image.ErrTruncated,
			mention: []string{"layer 0", "gzip"},
		},
		{
			name:    "oci-dir cut zstd stream",
			input:   func(t *testing.T) image.Target { return cutLayout(t, zst, mtTarZstd, len(zst.Layers[0].Blob)/2) },
			is:      image.ErrTruncated,
			mention: []string{"layer 0", `"etc/big"`},
		},
		{
			name:    "oci-dir cut uncompressed tar",
			input:   func(t *testing.T) image.Target { return cutLayout(t, plain, mtTar, len(plain.Layers[0].Blob)/2) },
			is:      image.ErrTruncated,
			mention: []string{"layer 0", `"etc/big"`},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { run(t, c) })
	}
}

func TestCorruptBlobs(t *testing.T) {
	gz := imagetest.Build(bigSpec(imagetest.Gzip))
	plain := imagetest.Build(bigSpec(imagetest.None))
	gzL, plainL := gz.Layers[0], plain.Layers[0]
	flip := func(b *imagetest.Built, i int) func(t *testing.T) image.Target {
		return func(t *testing.T) image.Target {
			l := b.Layers[0]
			return write(t, replaced(b.LayoutFiles(""), blobName(l.Digest), flipped(l.Blob, i)), image.OCIDir)
		}
	}
	// Two files of one size but other bytes: their blobs are the same
	// size, so only the digest tells them apart.
	same := func(c byte, comp imagetest.Compression) *imagetest.Built {
		return imagetest.Build(imagetest.Spec{Layers: []imagetest.Layer{{Comp: comp, Entries: []imagetest.Entry{
			{Name: "f", Body: bytes.Repeat([]byte{c}, 4000)},
		}}}})
	}
	swap := func(comp imagetest.Compression) func(t *testing.T) image.Target {
		return func(t *testing.T) image.Target {
			a, b := same('a', comp), same('b', comp)
			if len(a.Layers[0].Blob) != len(b.Layers[0].Blob) {
				t.Fatalf("blobs differ in size: %d, %d", len(a.Layers[0].Blob), len(b.Layers[0].Blob))
			}
			return write(t, replaced(a.LayoutFiles(""), blobName(a.Layers[0].Digest), b.Layers[0].Blob), image.OCIDir)
		}
	}
	swapped := same('a', imagetest.Gzip).Layers[0].Digest
	swappedPlain := same('a', imagetest.None).Layers[0].Digest
	otherDiffID := imagetest.Digest([]byte("not this layer"))
	cases := []hostileCase{
		{name: "gzip byte flipped in the header mtime", input: flip(gz, 4), as: digestErr("", gzL.Digest), mention: []string{"layer 0", gzL.Digest}},
		{name: "gzip byte flipped in the middle", input: flip(gz, len(gzL.Blob)/2), as: digestErr("", gzL.Digest), mention: []string{"layer 0", gzL.Digest}},
		{name: "gzip byte flipped in the trailer", input: flip(gz, len(gzL.Blob)-1), as: digestErr("", gzL.Digest), mention: []string{"layer 0", gzL.Digest}},
		{name: "gzip magic flipped", input: flip(gz, 0), as: digestErr("", gzL.Digest), mention: []string{"layer 0", gzL.Digest}},
		{name: "tar byte flipped in file content", input: flip(plain, 512+1000), as: digestErr("", plainL.Digest), mention: []string{"layer 0", plainL.Digest}},
		{name: "tar byte flipped in a header", input: flip(plain, 520), as: digestErr("", plainL.Digest), mention: []string{"layer 0", plainL.Digest}},
		{name: "gzip blob under digest X holds other bytes", input: swap(imagetest.Gzip), as: digestErr("", swapped), mention: []string{"layer 0", swapped}},
		{name: "tar blob under digest X holds other bytes", input: swap(imagetest.None), as: digestErr("", swappedPlain), mention: []string{"layer 0", swappedPlain}},
		{
			name: "oci-dir config diff ID does not match",
			input: func(t *testing.T) image.Target {
				return write(t, layoutFiles(t, configFor(t, otherDiffID), descOf(mtTarGzip, gzL.Blob)), image.OCIDir)
			},
			as:      digestErr("diff ID", otherDiffID),
			mention: []string{"layer 0", otherDiffID},
		},
		{
			name: "oci-dir uncompressed layer, diff ID does not match",
			input: func(t *testing.T) image.Target {
				return write(t, layoutFiles(t, configFor(t, otherDiffID), descOf(mtTar, plainL.Blob)), image.OCIDir)
			},
			as:      digestErr("diff ID", otherDiffID),
			mention: []string{"layer 0", otherDiffID},
		},
		{
			// Old docker archives name gzip layers by nothing the pass can
			// check, so the diff ID is the only check.
			name: "docker-archive config diff ID does not match",
			input: func(t *testing.T) image.Target {
				cfg := configFor(t, otherDiffID)
				cfgName := hexOf(imagetest.Digest(cfg)) + ".json"
				layerName := hexOf(gzL.Digest) + ".tar.gz"
				return write(t, []imagetest.File{
					{Name: layerName, Body: gzL.Blob},
					{Name: cfgName, Body: cfg},
					{Name: "manifest.json", Body: mustJSON(t, []any{map[string]any{"Config": cfgName, "Layers": []string{layerName}}})},
				}, image.DockerArchive)
			},
			as:      digestErr("diff ID", otherDiffID),
			mention: []string{"layer 0", otherDiffID},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { run(t, c) })
	}
}

func TestMissingBlob(t *testing.T) {
	b := imagetest.Build(twoLayers(imagetest.Entry{Name: "x", Body: []byte("x")}))
	l := b.Layers[1]
	cases := []hostileCase{
		{
			name: "oci-dir",
			input: func(t *testing.T) image.Target {
				return write(t, without(b.LayoutFiles(""), blobName(l.Digest)), image.OCIDir)
			},
			is:      fs.ErrNotExist,
			mention: []string{"layer 1", blobName(l.Digest)},
		},
		{
			name: "oci-archive",
			input: func(t *testing.T) image.Target {
				return write(t, without(b.LayoutFiles(""), blobName(l.Digest)), image.OCIArchive)
			},
			is:      fs.ErrNotExist,
			mention: []string{"layer 1", blobName(l.Digest)},
		},
		{
			name: "docker-archive",
			input: func(t *testing.T) image.Target {
				return write(t, without(b.ArchiveFiles(""), hexOf(l.Digest)+".tar.gz"), image.DockerArchive)
			},
			atOpen:  true,
			is:      fs.ErrNotExist,
			mention: []string{"layer 1", hexOf(l.Digest) + ".tar.gz"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { run(t, c) })
	}
}

func TestHostileEntries(t *testing.T) {
	cases := []struct {
		name    string
		entries []imagetest.Entry
		is      error
		mention []string
	}{
		{"parent escape", []imagetest.Entry{{Name: "../etc/passwd", Body: []byte("x")}}, image.ErrInsecurePath, []string{`"../etc/passwd"`}},
		{"escape through a directory", []imagetest.Entry{{Name: "a/../../x", Body: []byte("x")}}, image.ErrInsecurePath, []string{`"a/../../x"`}},
		{"absolute", []imagetest.Entry{{Name: "/etc/passwd", Body: []byte("x")}}, image.ErrInsecurePath, []string{`"/etc/passwd"`}},
		{"absolute directory", []imagetest.Entry{{Name: "/etc/"}}, image.ErrInsecurePath, []string{`"/etc/"`}},
		{"hard link escape", []imagetest.Entry{{Name: "h", Type: tar.TypeLink, Link: "../../x"}}, image.ErrInsecurePath, []string{`"h"`, `"../../x"`}},
		{"hard link absolute", []imagetest.Entry{{Name: "h", Type: tar.TypeLink, Link: "/etc/hostname"}}, image.ErrInsecurePath, []string{`"h"`, `"/etc/hostname"`}},
		{"hard link to a missing file", []imagetest.Entry{{Name: "h", Type: tar.TypeLink, Link: "etc/nope"}}, nil, []string{`"h"`, `"etc/nope"`, "does not exist"}},
		{"hard link to a directory", []imagetest.Entry{{Name: "h", Type: tar.TypeLink, Link: "etc"}}, nil, []string{`"h"`, `"etc"`}},
		{"hard link to itself", []imagetest.Entry{{Name: "h", Type: tar.TypeLink, Link: "h"}}, nil, []string{`"h"`}},
		{"whiteout of nothing", []imagetest.Entry{{Name: "etc/.wh."}}, nil, []string{`"etc/.wh."`}},
		{"whiteout of /", []imagetest.Entry{{Name: ".wh."}}, nil, []string{`".wh."`}},
		{"whiteout of ..", []imagetest.Entry{{Name: "etc/.wh..."}}, nil, []string{`"etc/.wh..."`}},
		{"symlink without target", []imagetest.Entry{{Name: "s", Type: tar.TypeSymlink}}, nil, []string{`"s"`}},
	}
	for _, kind := range []image.Scheme{image.DockerArchive, image.OCIArchive, image.OCIDir} {
		for _, c := range cases {
			b := imagetest.Build(twoLayers(c.entries...))
			t.Run(string(kind)+"/"+c.name, func(t *testing.T) {
				run(t, hostileCase{
					input:   func(t *testing.T) image.Target { return write(t, filesOf(b, kind), kind) },
					is:      c.is,
					mention: append([]string{"layer 1"}, c.mention...),
				})
			})
		}
	}
}

func TestSymlinkLoops(t *testing.T) {
	for _, kind := range []image.Scheme{image.DockerArchive, image.OCIArchive, image.OCIDir} {
		t.Run(string(kind), func(t *testing.T) {
			img := openBuilt(t, imagetest.Spec{Layers: []imagetest.Layer{{Entries: []imagetest.Entry{
				{Name: "a", Type: tar.TypeSymlink, Link: "b"},
				{Name: "b", Type: tar.TypeSymlink, Link: "a"},
				{Name: "d/", Mode: 0o755},
				{Name: "d/self", Type: tar.TypeSymlink, Link: "../d/self/x"},
				{Name: "up", Type: tar.TypeSymlink, Link: "../../../../a"},
			}}}}, kind)
			// Symlinks are entries: the pass records them and succeeds.
			res, err := image.Walk(context.Background(), img, image.PassOptions{})
			if err != nil {
				t.Fatalf("Walk: %v", err)
			}
			for _, p := range []string{"/a", "/b", "/a/x", "/d/self", "/up", "/d/../up"} {
				done := make(chan error, 1)
				go func() { _, err := res.Tree.Resolve(p); done <- err }()
				select {
				case err := <-done:
					if !errors.Is(err, image.ErrLinkLoop) {
						t.Errorf("Resolve(%s): err = %v, want ErrLinkLoop", p, err)
					} else if !strings.Contains(err.Error(), p) {
						t.Errorf("Resolve(%s): error does not name the path: %v", p, err)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("Resolve(%s) hangs", p)
				}
			}
			if fi, ok := res.Tree.Lookup("/a"); !ok || fi.Kind != image.KindSymlink || fi.Link != "b" {
				t.Errorf("Lookup(/a) = %+v, %v; want the symlink itself", fi, ok)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	five := []imagetest.Entry{{Name: "a/"}, {Name: "a/1"}, {Name: "a/2"}, {Name: "a/3"}, {Name: "a/4"}}
	long := strings.Repeat("d/", 60) + "file"
	type lc struct {
		name    string
		spec    imagetest.Spec
		lim     image.Limits
		flag    string
		mention []string
	}
	cases := []lc{
		{"entries", imagetest.Spec{Layers: []imagetest.Layer{{Entries: five}}}, image.Limits{Entries: 3}, "--max-entries", []string{"layer 0", `"a/3"`}},
		// The count runs over all layers.
		{"entries across layers", imagetest.Spec{Layers: []imagetest.Layer{{Entries: five[:3]}, {Entries: five[3:]}}}, image.Limits{Entries: 4}, "--max-entries", []string{"layer 1", `"a/4"`}},
		{"path length", twoLayers(imagetest.Entry{Name: long, Body: []byte("x")}), image.Limits{PathLen: 100}, "--max-path-length", []string{"layer 1", long[:80]}},
		{"entry bytes", twoLayers(imagetest.Entry{Name: "blob", Size: 2000}), image.Limits{EntryBytes: 1000}, "--max-entry-bytes", []string{"layer 1", `"blob"`}},
		{"total bytes", twoLayers(imagetest.Entry{Name: "blob", Size: 1 << 20}), image.Limits{TotalBytes: 64 << 10}, "--max-total-bytes", []string{"layer 1", `"blob"`}},
	}
	for _, kind := range []image.Scheme{image.DockerArchive, image.OCIDir} {
		for _, c := range cases {
			b := imagetest.Build(c.spec)
			t.Run(string(kind)+"/"+c.name, func(t *testing.T) {
				run(t, hostileCase{
					input:   func(t *testing.T) image.Target { return write(t, filesOf(b, kind), kind) },
					pass:    image.PassOptions{Limits: c.lim},
					as:      limitErr(c.flag),
					mention: c.mention,
				})
			})
		}
	}
	// The limit is not off by one: exactly the limit passes.
	b := imagetest.Build(imagetest.Spec{Layers: []imagetest.Layer{{Entries: five}}})
	img := openBuilt(t, imagetest.Spec{Layers: []imagetest.Layer{{Raw: b.Layers[0].Tar}}}, image.OCIDir)
	if _, err := image.Walk(context.Background(), img, image.PassOptions{Limits: image.Limits{Entries: 5}}); err != nil {
		t.Errorf("5 entries with Limits{Entries: 5}: %v", err)
	}
}

func TestBadMetadata(t *testing.T) {
	b := imagetest.Build(twoLayers(imagetest.Entry{Name: "x", Body: []byte("x")}))
	big := imagetest.Build(imagetest.Spec{
		Labels: map[string]string{"padding": strings.Repeat("p", 8<<10)},
		Layers: []imagetest.Layer{{Entries: []imagetest.Entry{{Name: "x", Body: []byte("x")}}}},
	})
	small := image.Options{Limits: image.Limits{MetadataBytes: 4 << 10}}
	// An index blob that lists itself. Blobs are content-addressed, so it
	// cannot be stored under its own digest: the digest check must stop
	// the loop.
	loop := imagetest.Digest([]byte("a name for the loop"))
	loopFiles := func(t testing.TB) []imagetest.File {
		return []imagetest.File{
			{Name: "oci-layout", Body: []byte(`{"imageLayoutVersion":"1.0.0"}`)},
			{Name: "index.json", Body: indexOf(t, mtIndex, loop, 200)},
			{Name: blobName(loop), Body: indexOf(t, mtIndex, loop, 200)},
		}
	}
	// Honest indexes nested deeper than any real image.
	deep := func(t testing.TB) []imagetest.File {
		files := without(b.LayoutFiles(""), "index.json")
		mt, d, size := mtManifest, b.ManifestD, len(b.Manifest)
		for range 8 {
			idx := indexOf(t, mt, d, size)
			files = append(files, imagetest.File{Name: blobName(imagetest.Digest(idx)), Body: idx})
			mt, d, size = mtIndex, imagetest.Digest(idx), len(idx)
		}
		return append(files, imagetest.File{Name: "index.json", Body: indexOf(t, mt, d, size)})
	}
	cases := []hostileCase{
		{
			name: "docker-archive manifest.json is not JSON",
			input: func(t *testing.T) image.Target {
				return write(t, replaced(b.ArchiveFiles(""), "manifest.json", []byte("{not json")), image.DockerArchive)
			},
			atOpen:  true,
			as:      errAs[*json.SyntaxError],
			mention: []string{"manifest.json"},
		},
		{
			name: "oci-dir index.json is not JSON",
			input: func(t *testing.T) image.Target {
				return write(t, replaced(b.LayoutFiles(""), "index.json", []byte("\x00\x01garbage")), image.OCIDir)
			},
			atOpen:  true,
			mention: []string{"index.json"},
		},
		{
			name: "oci-dir manifest is not JSON",
			input: func(t *testing.T) image.Target {
				return write(t, layoutWithManifest(t, []byte("[1,2"), b), image.OCIDir)
			},
			atOpen:  true,
			mention: []string{"manifest"},
		},
		{
			name: "oci-dir index.json points at a missing manifest",
			input: func(t *testing.T) image.Target {
				return write(t, without(b.LayoutFiles(""), blobName(b.ManifestD)), image.OCIDir)
			},
			atOpen:  true,
			is:      fs.ErrNotExist,
			mention: []string{b.ManifestD},
		},
		{
			name: "oci-archive index.json points at a missing manifest",
			input: func(t *testing.T) image.Target {
				return write(t, without(b.LayoutFiles(""), blobName(b.ManifestD)), image.OCIArchive)
			},
			atOpen:  true,
			is:      fs.ErrNotExist,
			mention: []string{b.ManifestD},
		},
		{
			name: "oci-dir config is missing",
			input: func(t *testing.T) image.Target {
				return write(t, without(b.LayoutFiles(""), blobName(b.ConfigDig)), image.OCIDir)
			},
			atOpen:  true,
			is:      fs.ErrNotExist,
			mention: []string{b.ConfigDig},
		},
		{
			name:    "oci-dir config larger than MetadataBytes",
			input:   func(t *testing.T) image.Target { return write(t, big.LayoutFiles(""), image.OCIDir) },
			opts:    small,
			atOpen:  true,
			as:      limitErr("--max-metadata-bytes"),
			mention: []string{big.ConfigDig},
		},
		{
			name:    "oci-archive config larger than MetadataBytes",
			input:   func(t *testing.T) image.Target { return write(t, big.LayoutFiles(""), image.OCIArchive) },
			opts:    small,
			atOpen:  true,
			as:      limitErr("--max-metadata-bytes"),
			mention: []string{big.ConfigDig},
		},
		{
			name:    "docker-archive config larger than MetadataBytes",
			input:   func(t *testing.T) image.Target { return write(t, big.ArchiveFiles(""), image.DockerArchive) },
			opts:    small,
			atOpen:  true,
			as:      limitErr("--max-metadata-bytes"),
			mention: []string{hexOf(big.ConfigDig) + ".json"},
		},
		{
			name:    "oci-dir index that lists itself",
			input:   func(t *testing.T) image.Target { return write(t, loopFiles(t), image.OCIDir) },
			atOpen:  true,
			as:      digestErr("", loop),
			mention: []string{loop},
		},
		{
			name:    "oci-archive index that lists itself",
			input:   func(t *testing.T) image.Target { return write(t, loopFiles(t), image.OCIArchive) },
			atOpen:  true,
			as:      digestErr("", loop),
			mention: []string{loop},
		},
		{
			// In an archive a blob can be a symlink: one to itself must not
			// be followed forever.
			name: "oci-archive manifest blob is a symlink to itself",
			input: func(t *testing.T) image.Target {
				files := without(b.LayoutFiles(""), blobName(b.ManifestD))
				files = append(files, imagetest.File{Name: blobName(b.ManifestD), Type: tar.TypeSymlink, Link: hexOf(b.ManifestD)})
				return write(t, files, image.OCIArchive)
			},
			atOpen:  true,
			is:      image.ErrLinkLoop,
			mention: []string{b.ManifestD},
		},
		{
			name:    "oci-dir indexes nested 8 deep",
			input:   func(t *testing.T) image.Target { return write(t, deep(t), image.OCIDir) },
			atOpen:  true,
			mention: []string{"nest deeper"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { run(t, c) })
	}
}

// layoutWithManifest replaces b's manifest with raw, stored under its own
// digest so that only its content is wrong.
func layoutWithManifest(t testing.TB, raw []byte, b *imagetest.Built) []imagetest.File {
	files := without(without(b.LayoutFiles(""), blobName(b.ManifestD)), "index.json")
	return append(files,
		imagetest.File{Name: blobName(imagetest.Digest(raw)), Body: raw},
		imagetest.File{Name: "index.json", Body: indexOf(t, mtManifest, imagetest.Digest(raw), len(raw))},
	)
}

// bomb writes an OCI layout whose one layer holds a single file of size
// zero bytes, compressed by newZ, without ever holding the stream in
// memory: the tar goes through a pipe into the compressor, and both
// streams are hashed on the way.
func bomb(t *testing.T, size int64, mt string, newZ func(io.Writer) (io.WriteCloser, error)) image.Target {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "blobs", "sha256", "partial")
	f, err := os.Create(tmp)
	if err != nil {
		t.Fatal(err)
	}
	blobHash, tarHash := sha256.New(), sha256.New()
	counted := &countWriter{}
	zw, err := newZ(io.MultiWriter(f, blobHash, counted))
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(zw, pr)
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
		pr.CloseWithError(err)
		done <- err
	}()
	tw := tar.NewWriter(io.MultiWriter(pw, tarHash))
	werr := writeZeros(tw, "zeros", size)
	pw.CloseWithError(werr)
	if err := <-done; err != nil || werr != nil {
		t.Fatalf("building the bomb: %v, %v", werr, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	blob := layerDesc{MediaType: mt, Digest: sum(blobHash), Size: counted.n}
	if err := os.Rename(tmp, filepath.Join(dir, filepath.FromSlash(blobName(blob.Digest)))); err != nil {
		t.Fatal(err)
	}
	if err := imagetest.WriteDir(dir, layoutFiles(t, configFor(t, sum(tarHash)), blob)); err != nil {
		t.Fatal(err)
	}
	t.Logf("bomb: %d bytes of zeros in a %d-byte blob", size, counted.n)
	return image.Target{Scheme: image.OCIDir, Value: dir}
}

func writeZeros(tw *tar.Writer, name string, size int64) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: size, ModTime: imagetest.Epoch}); err != nil {
		return err
	}
	zeros := make([]byte, 1<<20)
	for left := size; left > 0; {
		n := min(left, int64(len(zeros)))
		if _, err := tw.Write(zeros[:n]); err != nil {
			return err
		}
		left -= n
	}
	return tw.Close()
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func sum(h hash.Hash) string { return "sha256:" + hex.EncodeToString(h.Sum(nil)) }

const bombSize = 600 << 20

func TestGzipBomb(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 600 MiB stream")
	}
	tgt := bomb(t, bombSize, mtTarGzip, func(w io.Writer) (io.WriteCloser, error) {
		return kgzip.NewWriterLevel(w, kgzip.BestSpeed)
	})
	for _, c := range []struct {
		name string
		pass image.PassOptions
		flag string
	}{
		{"default limits", image.PassOptions{}, "--max-ratio"},
		{"total bytes", image.PassOptions{Limits: image.Limits{TotalBytes: 1 << 20}}, "--max-total-bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			run(t, hostileCase{
				input:   func(*testing.T) image.Target { return tgt },
				pass:    c.pass,
				as:      limitErr(c.flag),
				mention: []string{"layer 0", `"zeros"`},
			})
			t.Logf("walk stopped after %v", time.Since(start))
		})
	}
}

func TestZstdBomb(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 600 MiB stream")
	}
	tgt := bomb(t, bombSize, mtTarZstd, func(w io.Writer) (io.WriteCloser, error) {
		return zstd.NewWriter(w, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest))
	})
	run(t, hostileCase{
		input:   func(*testing.T) image.Target { return tgt },
		as:      limitErr("--max-ratio"),
		mention: []string{"layer 0", `"zeros"`},
	})
}

// A layer that expands a lot but stays under the grace size is not a bomb.
func TestSmallZerosAreNotABomb(t *testing.T) {
	tgt := bomb(t, 8<<20, mtTarGzip, func(w io.Writer) (io.WriteCloser, error) {
		return kgzip.NewWriterLevel(w, kgzip.BestSpeed)
	})
	_, res := walkAll(t, tgt)
	if got := res.Layers[0].ContentBytes; got != 8<<20 {
		t.Errorf("content bytes = %d, want %d", got, 8<<20)
	}
}

// sparseTar returns a tar of n PAX (GNU 1.0) sparse files, each holding
// 512 bytes of data at offset 0 and a hole up to realSize. archive/tar
// reads them but cannot write them, so the blocks are put together here.
func sparseTar(t testing.TB, n int, realSize int64) []byte {
	var out bytes.Buffer
	for i := range n {
		name := fmt.Sprintf("sparse%d", i)
		var recs string
		for _, kv := range [][2]string{
			{"GNU.sparse.major", "1"}, {"GNU.sparse.minor", "0"},
			{"GNU.sparse.name", name}, {"GNU.sparse.realsize", fmt.Sprint(realSize)},
		} {
			recs += paxRecord(kv[0], kv[1])
		}
		out.Write(rawHeader(t, "PaxHeaders/"+name, tar.TypeXHeader, int64(len(recs))))
		out.Write(padded([]byte(recs)))
		data := padded([]byte("1\n0\n512\n")) // one region: offset 0, 512 bytes
		data = append(data, padded([]byte("\x7fELF\x02\x01\x01"))...)
		out.Write(rawHeader(t, "GNUSparseFile.0/"+name, tar.TypeReg, int64(len(data))))
		out.Write(data)
	}
	out.Write(make([]byte, 1024))
	return out.Bytes()
}

// paxRecord formats "LEN key=value\n", LEN counting itself.
func paxRecord(k, v string) string {
	size := len(k) + len(v) + 3 // ' ', '=', '\n'
	size += len(fmt.Sprint(size))
	rec := fmt.Sprintf("%d %s=%s\n", size, k, v)
	if len(rec) != size { // the length field grew a digit
		rec = fmt.Sprintf("%d %s=%s\n", len(rec), k, v)
	}
	return rec
}

func padded(b []byte) []byte {
	if r := len(b) % 512; r != 0 {
		b = append(b, make([]byte, 512-r)...)
	}
	return b
}

// rawHeader is a ustar header block of any type flag, even those
// tar.Writer refuses to write by hand.
func rawHeader(t testing.TB, name string, typ byte, size int64) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Size: size, Mode: 0o644, ModTime: imagetest.Epoch, Format: tar.FormatUSTAR}); err != nil {
		t.Fatal(err)
	}
	blk := bytes.Clone(buf.Bytes()[:512])
	blk[156] = typ
	copy(blk[148:156], "        ")
	var sum int64
	for _, c := range blk {
		sum += int64(c)
	}
	copy(blk[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return blk
}

// Sparse holes come out of archive/tar, not the blob: they count as
// uncompressed bytes, or a few bytes of sparse map would feed visitors
// gigabytes of zeros past every limit.
func TestSparseBomb(t *testing.T) {
	cases := []hostileCase{
		{
			name: "one 1 GiB hole",
			input: func(t *testing.T) image.Target {
				return write(t, imagetest.Build(imagetest.Spec{Layers: []imagetest.Layer{{Raw: sparseTar(t, 1, 1<<30)}}}).LayoutFiles(""), image.OCIDir)
			},
			vis:     []image.Visitor{wantContent{}},
			as:      limitErr("--max-ratio"),
			mention: []string{"layer 0", `"sparse0"`},
		},
		{
			name: "holes add up to the total",
			input: func(t *testing.T) image.Target {
				return write(t, imagetest.Build(imagetest.Spec{Layers: []imagetest.Layer{{Raw: sparseTar(t, 4, 100<<20)}}}).LayoutFiles(""), image.OCIDir)
			},
			pass:    image.PassOptions{Limits: image.Limits{TotalBytes: 256 << 20}},
			vis:     []image.Visitor{wantContent{}},
			as:      limitErr("--max-total-bytes"),
			mention: []string{"layer 0", `"sparse2"`},
		},
		{
			name: "docker-archive",
			input: func(t *testing.T) image.Target {
				return write(t, imagetest.Build(imagetest.Spec{Layers: []imagetest.Layer{{Raw: sparseTar(t, 1, 1<<30), Comp: imagetest.None}}}).ArchiveFiles(""), image.DockerArchive)
			},
			as:      limitErr("--max-ratio"),
			mention: []string{"layer 0", `"sparse0"`},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { run(t, c) })
	}
	// A real sparse file below the limits still reads whole.
	img := openBuilt(t, imagetest.Spec{Layers: []imagetest.Layer{{Raw: sparseTar(t, 1, 1<<20)}}}, image.OCIDir)
	v := &contentVisitor{want: "/sparse0", got: map[string]string{}}
	res, err := image.Walk(context.Background(), img, image.PassOptions{}, v)
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	got := v.got["/sparse0@0"]
	if len(got) != 1<<20 || !strings.HasPrefix(got, "\x7fELF") || strings.Trim(got[512:], "\x00") != "" {
		t.Errorf("sparse content: %d bytes, starts %q", len(got), got[:min(8, len(got))])
	}
	if l := res.Layers[0]; l.UncompressedBytes != int64(len(sparseTar(t, 1, 1<<20))) {
		t.Errorf("UncompressedBytes = %d, want the tar stream length %d", l.UncompressedBytes, len(sparseTar(t, 1, 1<<20)))
	}
}

// TestOpaqueRoot: an opaque marker at the root of a layer hides every
// lower layer (as runtimes apply it); the walk neither fails nor lets the
// hidden files into the final filesystem.
func TestOpaqueRoot(t *testing.T) {
	b := imagetest.Build(twoLayers(imagetest.Entry{Name: ".wh..wh..opq"}, imagetest.Entry{Name: "new", Body: []byte("n")}))
	for _, kind := range []image.Scheme{image.DockerArchive, image.OCIDir} {
		t.Run(string(kind), func(t *testing.T) {
			_, res := walkAll(t, write(t, filesOf(b, kind), kind))
			if _, ok := res.Tree.Lookup("/etc/hostname"); ok {
				t.Error("a file under the opaque root is still visible")
			}
			if _, ok := res.Tree.Lookup("/new"); !ok {
				t.Error("the upper layer's file is missing")
			}
		})
	}
}

// TestHistoryMismatch: a history longer than the layers (or empty, or all
// empty_layer) is metadata that lies, not a reason to fail or to pin the
// wrong step on a layer: layers pair with the non-empty entries in order,
// the rest is ignored, and analysis still runs.
func TestHistoryMismatch(t *testing.T) {
	base := imagetest.Build(twoLayers(imagetest.Entry{Name: "app", Body: []byte("a")}))
	step := func(s string, empty bool) map[string]any {
		return map[string]any{"created_by": s, "empty_layer": empty}
	}
	for _, c := range []struct {
		name    string
		history []any
		want    []string // CreatedBy of each layer, "" for none
	}{
		{"longer", []any{step("ADD a", false), step("ADD b", false), step("RUN c", false), step("RUN d", false), step("RUN e", false)}, []string{"ADD a", "ADD b"}},
		{"empty", []any{}, []string{"", ""}},
		{"only empty steps", []any{step("ENV A=1", true), step("USER 1", true)}, []string{"", ""}},
		{"shorter", []any{step("ENV A=1", true), step("ADD a", false)}, []string{"ADD a", ""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := base.WithConfig(func(cfg map[string]any) { cfg["history"] = c.history })
			img, res := walkAll(t, write(t, filesOf(b, image.OCIDir), image.OCIDir))
			a, err := layers.Analyze(img, res, layers.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for i, l := range a.Layers {
				if l.CreatedBy != c.want[i] {
					t.Errorf("layer %d created by %q, want %q", i, l.CreatedBy, c.want[i])
				}
			}
		})
	}
}
