package harness

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	kgzip "github.com/klauspost/compress/gzip"
)

// Layer is a gzip layer blob written by WriteLayer. The JSON names are
// those bench/analyze keeps in bench-image.json.
type Layer struct {
	Digest   string `json:"digest"` // sha256:... of the gzip blob
	Size     int64  `json:"size"`
	DiffID   string `json:"diffID"` // sha256:... of the tar
	TarBytes int64  `json:"tarBytes"`
	Entries  int    `json:"entries"`
}

// Blob is the layer itself, for what embeds a Layer (see Total).
func (l Layer) Blob() Layer { return l }

// Total adds up the sizes and entries of layers (of any type that embeds
// a Layer); its digests are empty.
func Total[L interface{ Blob() Layer }](layers []L) (t Layer) {
	for _, l := range layers {
		b := l.Blob()
		t.Size += b.Size
		t.TarBytes += b.TarBytes
		t.Entries += b.Entries
	}
	return t
}

// BlobPath is where a blob is in a blobs/sha256 directory: named by the
// hex of its digest.
func BlobPath(dir, digest string) string {
	return filepath.Join(dir, strings.TrimPrefix(digest, "sha256:"))
}

// Digest is the sha256:... digest of b.
func Digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// hashWriter counts and hashes what goes through it.
type hashWriter struct {
	h hash.Hash
	n int64
}

func (w *hashWriter) Write(p []byte) (int, error) {
	w.h.Write(p)
	w.n += int64(len(p))
	return len(p), nil
}

func (w *hashWriter) sum() string { return "sha256:" + hex.EncodeToString(w.h.Sum(nil)) }

// WriteLayer streams one layer into dir: fill writes the tar entries and
// returns how many, and the stream goes tar → (diff ID hash) → gzip
// (klauspost/compress, default level) → (digest hash) → a temporary file,
// renamed to BlobPath(dir, digest) at the end. Nothing but a few buffers
// is held in memory.
func WriteLayer(dir string, fill func(*tar.Writer) (entries int, err error)) (Layer, error) {
	f, err := os.CreateTemp(dir, "layer-*.tmp")
	if err != nil {
		return Layer{}, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	blobHash := &hashWriter{h: sha256.New()}
	bw := bufio.NewWriterSize(io.MultiWriter(f, blobHash), 1<<20)
	zw, err := kgzip.NewWriterLevel(bw, kgzip.DefaultCompression)
	if err != nil {
		return Layer{}, err
	}
	tarHash := &hashWriter{h: sha256.New()}
	tw := tar.NewWriter(io.MultiWriter(zw, tarHash))
	n, err := fill(tw)
	if err != nil {
		return Layer{}, err
	}
	if err := tw.Close(); err != nil {
		return Layer{}, err
	}
	if err := zw.Close(); err != nil {
		return Layer{}, err
	}
	if err := bw.Flush(); err != nil {
		return Layer{}, err
	}
	if err := f.Close(); err != nil {
		return Layer{}, err
	}
	l := Layer{Digest: blobHash.sum(), Size: blobHash.n, DiffID: tarHash.sum(), TarBytes: tarHash.n, Entries: n}
	return l, os.Rename(f.Name(), BlobPath(dir, l.Digest))
}

// TarFile is a tar archive being written to a file through a 1 MiB
// buffer, every entry stamped with one modification time.
type TarFile struct {
	f     *os.File
	bw    *bufio.Writer
	tw    *tar.Writer
	mtime time.Time
}

// CreateTar creates (or truncates) the file for a tar archive. Close
// finishes it; defer Abort for the ways out before that.
func CreateTar(file string, mtime time.Time) (*TarFile, error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	return &TarFile{f: f, bw: bw, tw: tar.NewWriter(bw), mtime: mtime}, nil
}

// Dir adds a directory entry, mode 0755.
func (t *TarFile) Dir(name string) error {
	return t.tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, ModTime: t.mtime, Typeflag: tar.TypeDir})
}

// Add adds a regular file, mode 0644, of size bytes read from r.
func (t *TarFile) Add(name string, size int64, r io.Reader) error {
	if err := t.tw.WriteHeader(&tar.Header{Name: name, Size: size, Mode: 0o644, ModTime: t.mtime, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err := io.Copy(t.tw, r)
	return err
}

// AddBytes adds a regular file holding b.
func (t *TarFile) AddBytes(name string, b []byte) error {
	return t.Add(name, int64(len(b)), bytes.NewReader(b))
}

// AddFile adds a regular file with the contents of the file src.
func (t *TarFile) AddFile(name, src string) error {
	sf, err := os.Open(src)
	if err != nil {
		return err
	}
	defer sf.Close()
	st, err := sf.Stat()
	if err != nil {
		return err
	}
	return t.Add(name, st.Size(), sf)
}

// Close ends the archive and closes the file.
func (t *TarFile) Close() error {
	if err := t.tw.Close(); err != nil {
		return err
	}
	if err := t.bw.Flush(); err != nil {
		return err
	}
	return t.f.Close()
}

// Abort closes the file of an archive Close was not reached for (and
// does nothing after Close); the partial file stays.
func (t *TarFile) Abort() { t.f.Close() }
