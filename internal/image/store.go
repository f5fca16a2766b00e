package image

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// maxArchiveEntries bounds the entries of an image archive (not of a layer):
// real archives hold a few files per layer.
const maxArchiveEntries = 100_000

// maxLinkHops bounds symlink and hard link chains, as Linux's ELOOP does.
const maxLinkHops = 40

// store reads the named files of an image archive or layout directory.
type store interface {
	// open returns the file and its size. Names are slash-separated and
	// relative to the top of the archive or directory.
	open(name string) (io.ReadCloser, int64, error)
	// describe names the store in errors.
	describe() string
}

// dirStore reads an OCI layout directory. os.Root keeps every open inside
// the directory even when the layout holds symlinks that point out of it.
type dirStore struct {
	root *os.Root
	name string
}

func openDirStore(dir string) (*dirStore, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &dirStore{root: r, name: dir}, nil
}

func (s *dirStore) open(name string) (io.ReadCloser, int64, error) {
	f, err := s.root.Open(name)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%s: not a regular file", name)
	}
	return f, fi.Size(), nil
}

func (s *dirStore) describe() string { return s.name }
func (s *dirStore) Close() error     { return s.root.Close() }

// tarStore reads files of a tar archive in place: one scan of the headers
// records where each file's bytes start, and opening a file is a section
// read of the archive. Nothing is unpacked.
type tarStore struct {
	f     *os.File
	name  string
	files map[string]tarFile
	// cut, when set, says where the archive ends early. The files before
	// it open; the file it cuts and the names not found fail with it, so
	// that the error names the layer that needed them.
	cut error
}

type tarFile struct {
	off, size int64
	link      string // for symlinks and hard links: the cleaned target
	typ       byte
	cut       bool // the archive ends inside this file
}

func openTarStore(file string) (*tarStore, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	s := &tarStore{f: f, name: file, files: map[string]tarFile{}}
	if err := s.index(); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// offsetReader tracks the position in the archive so that tar.Reader's
// header reads and skips (it seeks when it can) tell where data starts.
type offsetReader struct {
	f   *os.File
	off int64
}

func (r *offsetReader) Read(p []byte) (int, error) {
	n, err := r.f.ReadAt(p, r.off)
	r.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (r *offsetReader) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		r.off = off
	case io.SeekCurrent:
		r.off += off
	case io.SeekEnd:
		fi, err := r.f.Stat()
		if err != nil {
			return 0, err
		}
		r.off = fi.Size() + off
	}
	return r.off, nil
}

func (s *tarStore) index() error {
	fi, err := s.f.Stat()
	if err != nil {
		return err
	}
	or := &offsetReader{f: s.f}
	tr := tar.NewReader(or)
	for n := 0; ; n++ {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			s.cut = fmt.Errorf("the archive ends early after %d files: %w", n, ErrTruncated)
			break
		}
		if err != nil {
			return fmt.Errorf("reading archive: %w", err)
		}
		if n >= maxArchiveEntries {
			return fmt.Errorf("archive holds more than %d files: not an image archive", maxArchiveEntries)
		}
		name, ok := cleanArchiveName(h.Name)
		if !ok {
			return fmt.Errorf("archive entry %q: %w", h.Name, ErrInsecurePath)
		}
		tf := tarFile{off: or.off, size: h.Size, typ: h.Typeflag}
		switch h.Typeflag {
		case tar.TypeSymlink:
			tf.link = path.Join(path.Dir(name), h.Linkname)
			if path.IsAbs(h.Linkname) {
				tf.link = strings.TrimPrefix(path.Clean(h.Linkname), "/")
			}
		case tar.TypeLink:
			tf.link, _ = cleanArchiveName(h.Linkname)
		case tar.TypeReg, tar.TypeDir:
		default:
			continue
		}
		if tf.off+tf.size > fi.Size() {
			s.cut = fmt.Errorf("archive entry %q: %w (needs %d bytes, the file has %d)", name, ErrTruncated, tf.off+tf.size, fi.Size())
			tf.cut = true
			s.files[name] = tf
			break
		}
		s.files[name] = tf
	}
	return nil
}

func (s *tarStore) open(name string) (io.ReadCloser, int64, error) {
	name, _ = cleanArchiveName(name)
	for hops := 0; ; hops++ {
		tf, ok := s.files[name]
		if !ok && s.cut != nil {
			return nil, 0, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("not found before the archive ends: %w", s.cut)}
		}
		if !ok {
			return nil, 0, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		if tf.cut {
			return nil, 0, s.cut
		}
		if tf.link != "" {
			if hops >= maxLinkHops {
				return nil, 0, &fs.PathError{Op: "open", Path: name, Err: ErrLinkLoop}
			}
			name = tf.link
			continue
		}
		if tf.typ != tar.TypeReg {
			return nil, 0, fmt.Errorf("%s: not a regular file", name)
		}
		return io.NopCloser(io.NewSectionReader(s.f, tf.off, tf.size)), tf.size, nil
	}
}

func (s *tarStore) describe() string { return s.name }
func (s *tarStore) Close() error     { return s.f.Close() }

// cleanArchiveName normalises a name inside an image archive and refuses
// names that leave it.
func cleanArchiveName(name string) (string, bool) {
	c := path.Clean("/" + name)
	if strings.Contains(name, "\x00") {
		return "", false
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == ".." {
			return "", false
		}
	}
	return strings.TrimPrefix(c, "/"), true
}

// readBlob reads a small file (manifest, index, config) whole, bounded by
// max, and checks it against want when want is set.
func readBlob(s store, name string, max int64, want v1.Hash) ([]byte, error) {
	rc, size, err := s.open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if size > max {
		return nil, &LimitError{Limit: fmt.Sprintf("%s: metadata bytes (%d)", name, size), Value: max, Flag: "--max-metadata-bytes"}
	}
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(b)) > max {
		return nil, &LimitError{Limit: name + ": metadata bytes", Value: max, Flag: "--max-metadata-bytes"}
	}
	if want.Hex != "" {
		if err := checkDigest(b, want); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return b, nil
}

// checkDigest verifies small in-memory blobs. sha512 is allowed by the OCI
// spec but never seen in practice; it is refused clearly rather than
// skipped silently.
func checkDigest(b []byte, want v1.Hash) error {
	if want.Algorithm != "sha256" {
		return fmt.Errorf("digest algorithm %q is not supported", want.Algorithm)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != want.Hex {
		return &DigestError{Want: want, Got: v1.Hash{Algorithm: "sha256", Hex: got}}
	}
	return nil
}

// Errors the sources and the pass wrap. Test them with errors.Is.
var (
	// ErrInsecurePath marks an entry name that is absolute or leaves the
	// root with "..", as archive/tar's ErrInsecurePath does.
	ErrInsecurePath = errors.New("insecure path: absolute or escapes the root")
	// ErrLinkLoop marks a chain of links longer than 40 hops.
	ErrLinkLoop = errors.New("too many levels of links (a loop?)")
	// ErrTruncated marks a blob or archive that ends early.
	ErrTruncated = errors.New("truncated")
)

// DigestError reports content whose digest is not the one promised.
type DigestError struct {
	Want, Got v1.Hash
	What      string // "digest" or "diff ID"
}

func (e *DigestError) Error() string {
	what := e.What
	if what == "" {
		what = "digest"
	}
	return fmt.Sprintf("%s mismatch: want %s, got %s (corrupt or tampered)", what, e.Want, e.Got)
}

// blobPath is where an OCI layout stores a blob.
func blobPath(h v1.Hash) (string, error) {
	if !validHash(h) {
		return "", fmt.Errorf("invalid digest %q", h)
	}
	return "blobs/" + h.Algorithm + "/" + h.Hex, nil
}

func validHash(h v1.Hash) bool {
	if h.Algorithm != "sha256" && h.Algorithm != "sha512" {
		return false
	}
	if _, err := hex.DecodeString(h.Hex); err != nil || h.Hex == "" {
		return false
	}
	return !bytes.ContainsAny([]byte(h.Hex), "ABCDEF")
}
