package build

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/redline-go/redline/internal/inflate"
)

// fileEntry is one entry of a layer redline writes.
type fileEntry struct {
	// Path is absolute and clean: "/etc/passwd".
	Path string
	Type byte // tar.TypeReg or tar.TypeDir
	// Mode holds the permission bits, sticky bit included (01777).
	Mode     int64
	UID, GID int
	// Data is a small file's content; Source names a file on disk to
	// stream instead (the binary), whose size is Size.
	Data   []byte
	Source string
	Size   int64
	// PAX records, e.g. the file capability.
	PAX map[string]string
}

// layerSpec says what a layer holds and how to write it.
type layerSpec struct {
	Entries []fileEntry
	// MTime is stamped on every entry (SOURCE_DATE_EPOCH, the commit time
	// or the Unix epoch).
	MTime     time.Time
	MediaType types.MediaType
	Level     int
	Workers   int
	// CreatedBy describes the layer in the image history.
	CreatedBy string
	// CacheDir keeps compressed blobs by diff ID; empty: no cache.
	CacheDir string
}

// fileLayer is a layer blob redline wrote to disk, with the digests it
// computed while writing. It implements v1.Layer.
type fileLayer struct {
	path      string
	digest    v1.Hash
	diffID    v1.Hash
	size      int64 // compressed
	tarSize   int64
	mediaType types.MediaType
	files     int
	createdBy string
}

var _ v1.Layer = (*fileLayer)(nil)

func (l *fileLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *fileLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *fileLayer) Size() (int64, error)                { return l.size, nil }
func (l *fileLayer) MediaType() (types.MediaType, error) { return l.mediaType, nil }
func (l *fileLayer) Compressed() (io.ReadCloser, error)  { return os.Open(l.path) }

func (l *fileLayer) Uncompressed() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	zr, err := inflate.NewGzipReader(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{zr, f}, nil
}

// withParents adds the missing parent directories of every entry (root
// owned, 0755) so a runtime never invents them with other modes.
func withParents(entries []fileEntry) []fileEntry {
	have := map[string]bool{}
	for _, e := range entries {
		have[e.Path] = true
	}
	out := append([]fileEntry(nil), entries...)
	for _, e := range entries {
		for d := path.Dir(e.Path); d != "/" && !have[d]; d = path.Dir(d) {
			have[d] = true
			out = append(out, fileEntry{Path: d, Type: tar.TypeDir, Mode: 0o755})
		}
	}
	return out
}

// writeLayer writes a reproducible layer into dir: entries sorted by path
// (parents first), owners numeric with no names, one timestamp, no access
// or change times, PAX only where a record needs it, then the deterministic
// parallel gzip. Nothing but the entries' content and spec decides a byte.
//
// With spec.CacheDir set, the tar stream is hashed first and a blob
// compressed earlier from the same stream, level and chunk size is reused:
// compression is most of what redline adds to go build, and an unchanged
// binary (or the static base) need not pay it twice.
func writeLayer(dir string, spec layerSpec) (_ *fileLayer, err error) {
	entries := withParents(spec.Entries)
	sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
	for i := 1; i < len(entries); i++ {
		if entries[i].Path == entries[i-1].Path {
			return nil, fmt.Errorf("layer: %s listed twice", entries[i].Path)
		}
	}
	mtime := spec.MTime.UTC().Truncate(time.Second)
	files := 0
	for _, e := range entries {
		if e.Type != tar.TypeDir {
			files++
		}
	}
	l := &fileLayer{mediaType: spec.MediaType, files: files, createdBy: spec.CreatedBy}
	var cacheFile string
	if spec.CacheDir != "" {
		tarHash := sha256.New()
		stream := &countWriter{w: tarHash}
		if err := writeTar(stream, entries, mtime); err != nil {
			return nil, err
		}
		l.diffID, l.tarSize = sha256Hash(tarHash), stream.n
		cacheFile = filepath.Join(spec.CacheDir, fmt.Sprintf("%s-gzip%d-%d-%d.tar.gz", l.diffID.Hex, spec.Level, gzipChunk, gzipFormat))
		if l.path, l.digest, l.size, err = fromCache(cacheFile, dir); err == nil {
			return l, nil
		}
	}
	f, err := os.CreateTemp(dir, "layer-*.tar.gz")
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	blobHash := sha256.New()
	blob := &countWriter{w: io.MultiWriter(f, blobHash)}
	zw := newPgzipWriter(blob, spec.Level, spec.Workers)
	tarHash := sha256.New()
	stream := &countWriter{w: io.MultiWriter(zw, tarHash)}
	if err := writeTar(stream, entries, mtime); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	diffID := sha256Hash(tarHash)
	if cacheFile != "" && diffID != l.diffID {
		return nil, fmt.Errorf("layer: the tar stream changed between two writes (%s, then %s): a file changed while being read", l.diffID, diffID)
	}
	l.path, l.digest, l.size = f.Name(), sha256Hash(blobHash), blob.n
	l.diffID, l.tarSize = diffID, stream.n
	if cacheFile != "" {
		toCache(f.Name(), cacheFile)
	}
	return l, nil
}

// writeTar writes the sorted entries as a tar stream.
func writeTar(w io.Writer, entries []fileEntry, mtime time.Time) error {
	tw := tar.NewWriter(w)
	for _, e := range entries {
		if err := writeEntry(tw, e, mtime); err != nil {
			return fmt.Errorf("layer: %s: %w", e.Path, err)
		}
	}
	return tw.Close()
}

// fromCache copies a cached blob into dir, checking it against the digest
// recorded beside it. Any problem is a miss.
func fromCache(cacheFile, dir string) (string, v1.Hash, int64, error) {
	want, err := os.ReadFile(cacheFile + ".digest")
	if err != nil {
		return "", v1.Hash{}, 0, err
	}
	src, err := os.Open(cacheFile)
	if err != nil {
		return "", v1.Hash{}, 0, err
	}
	defer src.Close()
	dst, err := os.CreateTemp(dir, "layer-*.tar.gz")
	if err != nil {
		return "", v1.Hash{}, 0, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(dst, h), src)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	digest := sha256Hash(h)
	if err == nil && digest.String() != strings.TrimSpace(string(want)) {
		err = fmt.Errorf("cached layer %s is corrupt", cacheFile)
	}
	if err == nil {
		now := time.Now()
		os.Chtimes(cacheFile, now, now)
	}
	if err != nil {
		os.Remove(dst.Name())
		return "", v1.Hash{}, 0, err
	}
	return dst.Name(), digest, n, nil
}

// toCache stores a blob for later builds. Failing to cache is not an
// error: the cache only saves time.
func toCache(blob, cacheFile string) {
	if err := os.MkdirAll(filepath.Dir(cacheFile), 0o755); err != nil {
		return
	}
	in, err := os.Open(blob)
	if err != nil {
		return
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(cacheFile), ".tmp-*")
	if err != nil {
		return
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), in)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.WriteFile(cacheFile+".digest", []byte(sha256Hash(h).String()+"\n"), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), cacheFile)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return
	}
	pruneCache(filepath.Dir(cacheFile), maxCachedLayers)
}

// maxCachedLayers bounds the layer cache: the most recently used blobs
// stay (a hit refreshes a blob's time).
const maxCachedLayers = 32

func pruneCache(dir string, keep int) {
	blobs, _ := filepath.Glob(filepath.Join(dir, "*.tar.gz"))
	if len(blobs) <= keep {
		return
	}
	mtime := func(p string) time.Time {
		fi, err := os.Stat(p)
		if err != nil {
			return time.Time{}
		}
		return fi.ModTime()
	}
	sort.Slice(blobs, func(i, j int) bool { return mtime(blobs[i]).After(mtime(blobs[j])) })
	for _, old := range blobs[keep:] {
		os.Remove(old)
		os.Remove(old + ".digest")
	}
}

func writeEntry(tw *tar.Writer, e fileEntry, mtime time.Time) error {
	h := &tar.Header{
		Name:     strings.TrimPrefix(e.Path, "/"),
		Typeflag: e.Type,
		Mode:     e.Mode,
		Uid:      e.UID,
		Gid:      e.GID,
		ModTime:  mtime,
		Format:   tar.FormatUSTAR,
	}
	if e.Type == tar.TypeDir {
		h.Name += "/"
	}
	if len(e.PAX) > 0 {
		h.PAXRecords = e.PAX
		h.Format = tar.FormatPAX
	}
	if len(h.Name) > 100 || e.UID > 0o7777777 || e.GID > 0o7777777 {
		// Past USTAR's fields (it would split long names into prefix and
		// name); PAX takes any.
		h.Format = tar.FormatPAX
	}
	var body io.Reader
	switch {
	case e.Type != tar.TypeReg:
	case e.Source != "":
		src, err := os.Open(e.Source)
		if err != nil {
			return err
		}
		defer src.Close()
		fi, err := src.Stat()
		if err != nil {
			return err
		}
		h.Size = fi.Size()
		body = src
	default:
		h.Size = int64(len(e.Data))
		body = strings.NewReader(string(e.Data))
	}
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	if body != nil {
		n, err := io.Copy(tw, body)
		if err != nil {
			return err
		}
		if n != h.Size {
			return fmt.Errorf("changed while being read (%d of %d bytes)", n, h.Size)
		}
	}
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func sha256Hash(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}
