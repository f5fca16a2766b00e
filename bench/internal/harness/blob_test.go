package harness

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWriteLayer(t *testing.T) {
	dir := t.TempDir()
	var tarBytes bytes.Buffer
	l, err := WriteLayer(dir, func(tw *tar.Writer) (int, error) {
		// The same entries into a second tar, to check the diff ID.
		ref := tar.NewWriter(&tarBytes)
		for _, w := range []*tar.Writer{tw, ref} {
			for _, name := range []string{"a", "b"} {
				body := []byte("content of " + name)
				if err := w.WriteHeader(&tar.Header{Name: name, Size: int64(len(body)), Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
					return 0, err
				}
				if _, err := w.Write(body); err != nil {
					return 0, err
				}
			}
		}
		return 2, ref.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	blob, err := os.ReadFile(BlobPath(dir, l.Digest))
	if err != nil {
		t.Fatal(err)
	}
	if Digest(blob) != l.Digest || int64(len(blob)) != l.Size {
		t.Errorf("blob: digest %s, %d bytes; layer says %s, %d", Digest(blob), len(blob), l.Digest, l.Size)
	}
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, tarBytes.Bytes()) || Digest(raw) != l.DiffID || int64(len(raw)) != l.TarBytes {
		t.Errorf("tar: diff ID %s, %d bytes; layer says %s, %d", Digest(raw), len(raw), l.DiffID, l.TarBytes)
	}
	if l.Entries != 2 {
		t.Errorf("entries %d, want 2", l.Entries)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	type withMore struct {
		Layer
		extra int
	}
	tot := Total([]withMore{{Layer: l}, {Layer: l}})
	if tot.Size != 2*l.Size || tot.TarBytes != 2*l.TarBytes || tot.Entries != 4 {
		t.Errorf("Total = %+v", tot)
	}
}

func TestTarFile(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.WriteFile(src, []byte("from a file"), 0o644)
	mtime := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a, err := CreateTar(filepath.Join(dir, "a.tar"), mtime)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Abort()
	if err := a.Dir("d/"); err != nil {
		t.Fatal(err)
	}
	if err := a.AddBytes("d/b", []byte("bytes")); err != nil {
		t.Fatal(err)
	}
	if err := a.AddFile("d/f", src); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "a.tar"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var got []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		if !h.ModTime.Equal(mtime) {
			t.Errorf("%s: mtime %v", h.Name, h.ModTime)
		}
		got = append(got, h.Name+"="+string(body))
	}
	want := []string{"d/=", "d/b=bytes", "d/f=from a file"}
	if len(got) != len(want) {
		t.Fatalf("entries %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: %q, want %q", i, got[i], want[i])
		}
	}
}
