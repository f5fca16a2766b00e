package build

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// testData is half random, half repetitive, so compression has work.
func testData(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		if (i/4096)%2 == 0 {
			b[i] = byte(r.IntN(256))
		} else {
			b[i] = "redline builds images "[i%22]
		}
	}
	return b
}

func pgzip(t *testing.T, data []byte, level, workers int, writeSize int) []byte {
	t.Helper()
	var out bytes.Buffer
	z := newPgzipWriter(&out, level, workers)
	for p := data; len(p) > 0; {
		k := min(writeSize, len(p))
		if _, err := z.Write(p[:k]); err != nil {
			t.Fatal(err)
		}
		p = p[k:]
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestPgzipRoundTripAndDeterminism(t *testing.T) {
	for _, n := range []int{0, 1, 100, gzipChunk - 1, gzipChunk, gzipChunk + 1, 3*gzipChunk + gzipChunk/2} {
		data := testData(n, uint64(n))
		ref := pgzip(t, data, 9, 1, 1<<20)
		zr, err := gzip.NewReader(bytes.NewReader(ref))
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if h := zr.Header; !h.ModTime.IsZero() || h.OS != 255 || h.Name != "" {
			t.Errorf("%d bytes: header %+v, want no time, no name, OS unknown", n, h)
		}
		got, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%d bytes: %v (the CRC and size trailer are checked here)", n, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: round trip differs", n)
		}
		// The same bytes whatever the parallelism or the write sizes.
		for _, w := range []struct{ workers, writeSize int }{{2, 7}, {4, 65536}, {8, 3 << 20}} {
			if other := pgzip(t, data, 9, w.workers, w.writeSize); !bytes.Equal(other, ref) {
				t.Errorf("%d bytes: %d workers, writes of %d: output differs", n, w.workers, w.writeSize)
			}
		}
	}
}

func TestPgzipLevelMatters(t *testing.T) {
	data := testData(2*gzipChunk, 7)
	fast, best := pgzip(t, data, 1, 2, 1<<16), pgzip(t, data, 9, 2, 1<<16)
	if len(best) >= len(fast) {
		t.Errorf("level 9 gave %d bytes, level 1 %d", len(best), len(fast))
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("disk full")
	}
	f.after--
	return len(p), nil
}

func TestPgzipWriteError(t *testing.T) {
	z := newPgzipWriter(&failWriter{after: 1}, 9, 2)
	data := testData(4*gzipChunk, 3)
	_, werr := z.Write(data)
	cerr := z.Close()
	if werr == nil && cerr == nil {
		t.Fatal("a failing writer gave no error")
	}
}

func readLayer(t *testing.T, l *fileLayer) (hdrs []*tar.Header, bodies map[string][]byte) {
	t.Helper()
	blob, err := os.ReadFile(l.path)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(blob); hex.EncodeToString(sum[:]) != l.digest.Hex || int64(len(blob)) != l.size {
		t.Errorf("digest %s / size %d do not describe the blob", l.digest, l.size)
	}
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	raw, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != l.diffID.Hex || int64(len(raw)) != l.tarSize {
		t.Errorf("diff ID %s / tar size %d do not describe the tar", l.diffID, l.tarSize)
	}
	tr := tar.NewReader(bytes.NewReader(raw))
	bodies = map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return hdrs, bodies
		}
		if err != nil {
			t.Fatal(err)
		}
		hdrs = append(hdrs, h)
		if h.Typeflag == tar.TypeReg {
			bodies[h.Name], _ = io.ReadAll(tr)
		}
	}
}

func TestWriteLayer(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "app")
	if err := os.WriteFile(bin, []byte("\x7fELF binary"), 0o700); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2026, 3, 4, 5, 6, 7, 890, time.UTC)
	spec := layerSpec{
		Entries: []fileEntry{
			{Path: "/usr/local/bin/app", Type: tar.TypeReg, Mode: 0o755, Source: bin, PAX: map[string]string{paxCapability: string(FileCapability([]Capability{CapNetBindService}))}},
			{Path: "/tmp", Type: tar.TypeDir, Mode: 0o1777},
			{Path: "/etc/passwd", Type: tar.TypeReg, Mode: 0o644, Data: []byte(staticPasswd)},
			{Path: "/data", Type: tar.TypeDir, Mode: 0o755, UID: 65532, GID: 65532},
		},
		MTime: mtime, MediaType: types.OCILayer, Level: 9, Workers: 2, CreatedBy: "test",
	}
	l, err := writeLayer(dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	hdrs, bodies := readLayer(t, l)
	type entry struct {
		Name     string
		Type     byte
		Mode     int64
		UID, GID int
		Names    string
		ModTime  time.Time
	}
	var got []entry
	for _, h := range hdrs {
		got = append(got, entry{h.Name, h.Typeflag, h.Mode, h.Uid, h.Gid, h.Uname + h.Gname, h.ModTime.UTC()})
		if !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			t.Errorf("%s: access or change time set", h.Name)
		}
	}
	sec := mtime.Truncate(time.Second)
	want := []entry{
		{"data/", tar.TypeDir, 0o755, 65532, 65532, "", sec},
		{"etc/", tar.TypeDir, 0o755, 0, 0, "", sec},
		{"etc/passwd", tar.TypeReg, 0o644, 0, 0, "", sec},
		{"tmp/", tar.TypeDir, 0o1777, 0, 0, "", sec},
		{"usr/", tar.TypeDir, 0o755, 0, 0, "", sec},
		{"usr/local/", tar.TypeDir, 0o755, 0, 0, "", sec},
		{"usr/local/bin/", tar.TypeDir, 0o755, 0, 0, "", sec},
		{"usr/local/bin/app", tar.TypeReg, 0o755, 0, 0, "", sec},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	for _, h := range hdrs {
		capRec, has := h.PAXRecords[paxCapability]
		switch {
		case h.Name == "usr/local/bin/app" && capRec != "\x01\x00\x00\x02\x00\x04\x00\x00"+string(make([]byte, 12)):
			t.Errorf("binary capability record = %q", capRec)
		case h.Name != "usr/local/bin/app" && has:
			t.Errorf("%s carries a capability", h.Name)
		}
	}
	if string(bodies["usr/local/bin/app"]) != "\x7fELF binary" || string(bodies["etc/passwd"]) != staticPasswd {
		t.Errorf("contents differ: %q", bodies)
	}
	if l.files != 2 || l.mediaType != types.OCILayer {
		t.Errorf("files %d, media type %s", l.files, l.mediaType)
	}

	// Reproducible: the same spec gives the same blob; the order the
	// entries are given in does not matter; the time does.
	again, err := writeLayer(dir, layerSpec{Entries: []fileEntry{spec.Entries[3], spec.Entries[1], spec.Entries[0], spec.Entries[2]}, MTime: mtime, MediaType: types.OCILayer, Level: 9, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if again.digest != l.digest || again.diffID != l.diffID {
		t.Errorf("same entries, digest %s then %s", l.digest, again.digest)
	}
	spec.MTime = mtime.Add(time.Hour)
	later, err := writeLayer(dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	if later.diffID == l.diffID {
		t.Error("a different timestamp gave the same diff ID")
	}
}

func TestWriteLayerErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := writeLayer(dir, layerSpec{Entries: []fileEntry{
		{Path: "/a", Type: tar.TypeReg, Data: []byte("1")},
		{Path: "/a", Type: tar.TypeReg, Data: []byte("2")},
	}, Level: 9, Workers: 1})
	if err == nil {
		t.Error("a path listed twice was accepted")
	}
	_, err = writeLayer(dir, layerSpec{Entries: []fileEntry{{Path: "/bin", Type: tar.TypeReg, Source: filepath.Join(dir, "missing")}}, Level: 9, Workers: 1})
	if err == nil {
		t.Error("a missing source file was accepted")
	}
	left, _ := filepath.Glob(filepath.Join(dir, "layer-*"))
	if len(left) != 0 {
		t.Errorf("failed layers left files behind: %v", left)
	}
}

func TestWriteLayerCache(t *testing.T) {
	dir, cache := t.TempDir(), t.TempDir()
	spec := layerSpec{
		Entries:  []fileEntry{{Path: "/app", Type: tar.TypeReg, Mode: 0o755, Data: testData(3*gzipChunk, 9)}},
		MTime:    time.Unix(0, 0),
		Level:    9,
		Workers:  2,
		CacheDir: cache,
	}
	uncached := spec
	uncached.CacheDir = ""
	want, err := writeLayer(dir, uncached)
	if err != nil {
		t.Fatal(err)
	}
	first, err := writeLayer(dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	blobs, _ := filepath.Glob(filepath.Join(cache, "*.tar.gz"))
	if len(blobs) != 1 || !strings.HasPrefix(filepath.Base(blobs[0]), want.diffID.Hex) {
		t.Fatalf("cache holds %v, want one blob named by the diff ID", blobs)
	}
	second, err := writeLayer(dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []*fileLayer{first, second} {
		if l.digest != want.digest || l.diffID != want.diffID || l.size != want.size || l.tarSize != want.tarSize || l.files != 1 {
			t.Errorf("cached layer %+v, uncached %+v", l, want)
		}
		readLayer(t, l) // checks the blob against the digests
	}
	if second.path == blobs[0] || filepath.Dir(second.path) != dir {
		t.Errorf("a cache hit must copy the blob into the work directory, got %s", second.path)
	}
	// A corrupt entry is a miss, and is replaced.
	if err := os.WriteFile(blobs[0], []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	third, err := writeLayer(dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	if third.digest != want.digest {
		t.Errorf("after corruption: digest %s, want %s", third.digest, want.digest)
	}
	if b, _ := os.ReadFile(blobs[0]); string(b) == "garbage" {
		t.Error("the corrupt cache entry was not replaced")
	}
}

func TestPruneCache(t *testing.T) {
	dir := t.TempDir()
	for i := range 5 {
		p := filepath.Join(dir, string(rune('a'+i))+".tar.gz")
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(p+".digest", nil, 0o644)
		ts := time.Unix(int64(1000+i), 0)
		os.Chtimes(p, ts, ts)
	}
	pruneCache(dir, 2)
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	want := []string{filepath.Join(dir, "d.tar.gz"), filepath.Join(dir, "d.tar.gz.digest"), filepath.Join(dir, "e.tar.gz"), filepath.Join(dir, "e.tar.gz.digest")}
	if diff := cmp.Diff(want, left); diff != "" {
		t.Errorf("after pruning (-want +got):\n%s", diff)
	}
}
