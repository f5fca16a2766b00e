package image_test

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/image"
)

// TestMillionEntries is the kit's 10⁶ tiny entries: a layer of a million
// empty files (512 MB of tar headers, a few MB gzipped) made by streaming,
// never held in memory. The pass must get through it with the default
// limits — the expansion-ratio guard must not take tar headers for a bomb
// — and keep the live heap within DESIGN.md's budget (~200 bytes an entry:
// 200 MB here; the bound below leaves room for the collector); with a lower
// entry limit it must stop with a LimitError that names the flag.
// It takes ~20 s and writes a few MB: REDLINE_E2E=1.
func TestMillionEntries(t *testing.T) {
	if os.Getenv("REDLINE_E2E") == "" {
		t.Skip("heavy: set REDLINE_E2E=1 (a million tar entries)")
	}
	const n = 1_000_000
	dir := t.TempDir()
	layerDigest, diffID, size := writeMillionLayer(t, filepath.Join(dir, "layer"), n)
	writeLayoutAround(t, dir, layerDigest, diffID, size)
	tgt := image.Target{Scheme: image.OCIDir, Value: dir}

	img, err := image.Open(context.Background(), tgt, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	res, err := image.Walk(context.Background(), img, image.PassOptions{})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("a million empty files: %v", err)
	}
	if got := res.Tree.Nodes(); got < n {
		t.Errorf("tree holds %d nodes, want at least %d", got, n)
	}
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	t.Logf("peak heap in use %d MiB, live after GC with the tree %d MiB (%d bytes an entry)", peak.Load()>>20, m.HeapAlloc>>20, m.HeapAlloc/n)
	if m.HeapAlloc > 400<<20 {
		t.Errorf("the tree of a million entries holds %d MiB live, over the 400 MiB bound (DESIGN.md: ~200 bytes an entry)", m.HeapAlloc>>20)
	}
	runtime.KeepAlive(res)

	_, err = image.Walk(context.Background(), img, image.PassOptions{Limits: image.Limits{Entries: n / 2}})
	var le *image.LimitError
	if !errors.As(err, &le) {
		t.Fatalf("with --max-entries %d: err = %v, want a LimitError", n/2, err)
	}
	if msg := err.Error(); !strings.Contains(msg, "--max-entries") {
		t.Errorf("the limit error does not name the flag: %s", msg)
	}
}

// writeMillionLayer streams a gzip tar of n empty files in 1000 directories
// to path, returning the blob digest, the diff ID and the blob size.
func writeMillionLayer(t *testing.T, path string, n int) (digest, diffID string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	blobHash, tarHash := sha256.New(), sha256.New()
	counter := &countWriter{}
	gz, _ := gzip.NewWriterLevel(io.MultiWriter(f, blobHash, counter), gzip.BestSpeed)
	tw := tar.NewWriter(io.MultiWriter(gz, tarHash))
	for d := 0; d < 1000; d++ {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: fmt.Sprintf("d%03d/", d), Mode: 0o755}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n/1000; i++ {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("d%03d/f%06d", d, i), Mode: 0o644}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return sum(blobHash), sum(tarHash), counter.n
}

// writeLayoutAround makes an OCI layout in dir whose one layer is the blob
// at dir/layer.
func writeLayoutAround(t *testing.T, dir, digest, diffID string, size int64) {
	t.Helper()
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "layer"), filepath.Join(blobs, digest[7:])); err != nil {
		t.Fatal(err)
	}
	put := func(v any) (string, int) {
		b, _ := json.Marshal(v)
		sum := sha256.Sum256(b)
		h := hex.EncodeToString(sum[:])
		if err := os.WriteFile(filepath.Join(blobs, h), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return "sha256:" + h, len(b)
	}
	cfg, cfgSize := put(map[string]any{"architecture": "amd64", "os": "linux", "config": map[string]any{}, "rootfs": map[string]any{"type": "layers", "diff_ids": []string{diffID}}})
	man, manSize := put(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg, "size": cfgSize},
		"layers": []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest, "size": size}}})
	index, _ := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []any{map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": man, "size": manSize}}})
	os.WriteFile(filepath.Join(dir, "index.json"), index, 0o644)
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}
