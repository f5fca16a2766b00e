package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"
	"sync/atomic"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/zstd"

	"github.com/redline-go/redline/internal/inflate"
)

// Entry is one tar entry of one layer, as offered to a [Visitor]. It is
// valid only during the call it is passed to.
type Entry struct {
	// Layer is the index of the layer holding the entry.
	Layer int
	// Path is the cleaned absolute path ("/etc/passwd"). For whiteouts and
	// opaque markers it is the path they delete or make opaque.
	Path string
	Kind Kind
	// Size is the byte count of a regular file, 0 otherwise.
	Size int64
	// Link is a symlink's target as written, or a hard link's target path.
	Link string
	// Header is the tar header as read, for visitors that need more (mode,
	// owners, PAX records such as file capabilities).
	Header *tar.Header
	// Magic holds the first bytes of a regular file (up to 512), so a
	// visitor can decide by content (ELF headers, #! lines) without asking
	// for the whole file.
	Magic []byte
}

// A Visitor consumes the entries of the one pass.
//
// Visit is offered every entry of every layer in order. To read a regular
// file's bytes it returns true, and Content is then called with a reader
// of exactly that file (several visitors wanting the same file each get
// the whole stream). Content may stop reading early; errors it returns
// abort the pass, so a visitor records unparseable content as a warning
// of its own instead.
//
// A visitor may also implement LayerStart(*Layer) error, called before each
// layer's entries, and Finish(*Tree) error, called once the final
// filesystem is known.
type Visitor interface {
	Visit(e *Entry) bool
	Content(e *Entry, r io.Reader) error
}

type layerStarter interface{ LayerStart(l *Layer) error }
type finisher interface{ Finish(t *Tree) error }

// LayerRead is what reading one layer measured.
type LayerRead struct {
	Index int
	// Digest is the blob digest, verified when the source named it and
	// computed otherwise.
	Digest v1.Hash
	// Compression as found in the bytes: "gzip", "zstd" or "none".
	Compression string
	// CompressedBytes and UncompressedBytes are the blob and tar stream
	// lengths.
	CompressedBytes   int64
	UncompressedBytes int64
	// Entries counts tar entries; ContentBytes adds up regular file sizes.
	Entries      int64
	ContentBytes int64
}

// Result is what one pass produced.
type Result struct {
	Tree   *Tree
	Layers []LayerRead
}

// PassOptions configure [Walk].
type PassOptions struct {
	// Limits bound the pass; zero fields take [DefaultLimits].
	Limits Limits
	// Progress, when set, is called from the pass with the compressed
	// bytes read so far and the total (-1 when unknown).
	Progress func(done, total int64)
	// PrefetchBytes bounds how much of the next layer is inflated ahead
	// into an unlinked temporary file while the current one is walked;
	// 0 means DefaultPrefetchBytes, a negative value turns it off.
	PrefetchBytes int64
}

// Walk makes the one pass over img's layers, feeding every visitor.
func Walk(ctx context.Context, img *Image, o PassOptions, visitors ...Visitor) (*Result, error) {
	w := &walker{
		img:      img,
		lim:      o.Limits.withDefaults(),
		visitors: visitors,
		tree:     newTree(),
		progress: o.Progress,
	}
	for _, l := range img.Layers {
		if l.Size < 0 {
			w.total = -1
			break
		}
		w.total += l.Size
	}
	w.spoolMax = o.PrefetchBytes
	if w.spoolMax == 0 {
		w.spoolMax = DefaultPrefetchBytes
	}
	defer func() {
		if w.pending != nil {
			w.pending.close()
			w.pending = nil
		}
	}()
	res := &Result{Tree: w.tree}
	for i, l := range img.Layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for _, v := range visitors {
			if ls, ok := v.(layerStarter); ok {
				if err := ls.LayerStart(l); err != nil {
					return nil, fmt.Errorf("%s: layer %d: %w", img.Ref, l.Index, err)
				}
			}
		}
		lr, err := w.layer(ctx, l, nextLayer(img.Layers, i))
		if err != nil {
			return nil, fmt.Errorf("%s: layer %d (%s): %w", img.Ref, l.Index, layerName(l), err)
		}
		res.Layers = append(res.Layers, lr)
		w.tree.layers++
	}
	for _, v := range visitors {
		if f, ok := v.(finisher); ok {
			if err := f.Finish(w.tree); err != nil {
				return nil, fmt.Errorf("%s: %w", img.Ref, err)
			}
		}
	}
	return res, nil
}

func nextLayer(ls []*Layer, i int) *Layer {
	if i+1 < len(ls) {
		return ls[i+1]
	}
	return nil
}

func layerName(l *Layer) string {
	switch {
	case l.Digest.Hex != "":
		return l.Digest.String()
	case l.DiffID.Hex != "":
		return "diff ID " + l.DiffID.String()
	}
	return "no digest"
}

type walker struct {
	img      *Image
	lim      Limits
	visitors []Visitor
	tree     *Tree

	entries  int64 // all layers
	total    int64 // compressed bytes of all layers, -1 unknown
	done     atomic.Int64
	allBytes int64 // uncompressed, all layers
	progress func(done, total int64)
	stream   *tarCounter // the current layer's tar stream; nil for dir: layers
	// pending is the next layer's chain, opened and inflating ahead.
	pending    *chain
	pendingErr *pendingErr
	spoolMax   int64

	magic [512]byte
	want  []Visitor
}

// layer reads one layer: blob -> (digest) -> decompress -> (diff ID) -> tar.
func (w *walker) layer(ctx context.Context, l *Layer, next *Layer) (LayerRead, error) {
	lr := LayerRead{Index: l.Index, Digest: l.Digest, Compression: "none"}
	if l.walk != nil {
		er, err := l.walk(ctx)
		if err != nil {
			return lr, err
		}
		defer er.Close()
		return lr, w.entries0(ctx, l, er, &lr)
	}
	if pe := w.pendingErr; pe != nil {
		w.pendingErr = nil
		if pe.layer == l {
			return lr, pe.err
		}
	}
	c := w.pending
	w.pending = nil
	if c == nil || c.layer != l {
		var err error
		if c, err = w.openChain(ctx, l); err != nil {
			return lr, err
		}
	}
	defer c.close()
	if next != nil {
		// While this layer is walked, the next one inflates on the other
		// core, into a spool (pass_prefetch.go).
		w.prefetch(ctx, next)
	}
	lr.Compression = c.comp.String()
	blob, br, in, comp := c.blob, c.br, c.in, c.comp
	corrupt := func(err error) error { return c.corrupt(ctx, err) }
	stream := c.reader()
	// An uncompressed blob is its own tar stream: its digest is the diff ID
	// and hashing it twice would only cost time.
	diffID := l.DiffID
	if comp == compNone && l.Digest == l.DiffID {
		diffID = v1.Hash{}
	}
	tarStream := &tarCounter{r: stream, comp: &in.n, w: w}
	var diffHash hash.Hash
	if diffID.Hex != "" {
		if c.spool != nil && c.spool.h != nil {
			// The spool's producer hashed what it inflated ahead, off this
			// layer's turn; the spool hashes the rest as it hands it over.
			diffHash = c.spool.h
		} else {
			diffHash = sha256.New()
			tarStream.h = diffHash
		}
	}
	w.stream = tarStream
	defer func() { w.stream = nil }()
	tr := tar.NewReader(tarStream)
	if err := w.entries0(ctx, l, tarReader{tr}, &lr); err != nil {
		return lr, corrupt(err)
	}
	// The diff ID covers the whole stream, padding after the tar end
	// blocks included.
	if _, err := io.Copy(io.Discard, tarStream); err != nil {
		return lr, corrupt(decompressErr(comp, err))
	}
	lr.UncompressedBytes = tarStream.n
	if diffID.Hex != "" {
		got := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(diffHash.Sum(nil))}
		if got != diffID {
			return lr, corrupt(&DigestError{Want: diffID, Got: got, What: "diff ID"})
		}
	}
	if comp == compNone {
		lr.UncompressedBytes = tarStream.n
	}
	// Compressed streams may carry trailing bytes the decompressor did not
	// need; the digest covers them.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return lr, fmt.Errorf("reading blob: %w", err)
	}
	lr.CompressedBytes = blob.n
	got, err := blob.verify()
	if err != nil {
		return lr, err
	}
	lr.Digest = got
	if l.Size >= 0 && blob.n != l.Size {
		return lr, fmt.Errorf("blob is %d bytes, the manifest says %d", blob.n, l.Size)
	}
	if l.Digest.Hex == "" {
		l.Digest = got
	}
	if l.Size < 0 {
		l.Size = blob.n
	}
	return lr, nil
}

// chain is one layer's blob -> (digest) -> decompress pipeline, ready to
// give the tar stream.
type chain struct {
	layer     *Layer
	rc        io.ReadCloser
	blob      *hashCounter
	blobAhead *readahead
	in        *consumedCounter
	br        *bufio.Reader
	comp      compression
	stream    io.Reader
	stop      func()
	// spool, when set, holds the stream's first bytes, inflated ahead
	// while the previous layer was walked (pass_prefetch.go).
	spool *spool
}

// openChain opens l's blob and its decompressor.
func (w *walker) openChain(ctx context.Context, l *Layer) (*chain, error) {
	rc, err := l.open(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening blob: %w", err)
	}
	c := &chain{layer: l, rc: rc}
	// The blob is read and its digest hashed on a goroutine of its own,
	// ahead of the decompressor: inflating is the critical path of the
	// pass, and the digest's SHA-256 would otherwise run inside it.
	c.blob = newHashCounter(rc, l.Digest, &w.done, w.progress, w.total)
	c.blobAhead = newReadahead(c.blob, blobBuffers, blobBufferSize)
	// in counts what the decompressor has taken, for the expansion ratio:
	// the readahead's lead must not loosen the bomb check.
	c.in = &consumedCounter{r: c.blobAhead}
	c.br = bufio.NewReaderSize(c.in, 1<<16)
	magic, _ := c.br.Peek(4)
	c.comp = sniffCompression(magic)
	c.stream = c.br
	switch c.comp {
	case compGzip:
		zr, err := inflate.NewGzipReader(c.br)
		if err != nil {
			err = c.corrupt(ctx, decompressErr(c.comp, err))
			c.close()
			return nil, err
		}
		ra := newReadahead(zr, streamBuffers, streamBufferSize)
		c.stream, c.stop = ra, ra.Close
	case compZstd:
		zr, err := zstd.NewReader(c.br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(1<<29), zstd.WithDecoderLowmem(true))
		if err != nil {
			c.close()
			return nil, fmt.Errorf("zstd: %w", err)
		}
		ra := newReadahead(zr, streamBuffers, streamBufferSize)
		c.stream, c.stop = ra, func() { ra.Close(); zr.Close() }
	}
	return c, nil
}

// halt stops the decompressor (it no longer reads br).
func (c *chain) halt() {
	sp := c.spool
	c.spool = nil
	if sp != nil {
		sp.stopProducer()
	}
	if c.stop != nil {
		c.stop()
		c.stop = nil
	}
	if sp != nil {
		sp.release()
	}
}

// close releases everything; the blob readahead goes after the
// decompressor that reads from it.
func (c *chain) close() {
	c.halt()
	c.blobAhead.Close()
	c.rc.Close()
}

// reader is the layer's tar stream: the spooled part first, if any.
func (c *chain) reader() io.Reader {
	if c.spool != nil {
		return c.spool
	}
	return c.stream
}

// corrupt decides what a decoding failure means. A blob that fails to
// decode may simply not be the blob the manifest names: then the digest
// mismatch is the error to report. The rest of the blob is read to tell
// (never after a limit: that may be a bomb).
func (c *chain) corrupt(ctx context.Context, err error) error {
	var le *LimitError
	if c.layer.Digest.Hex == "" || errors.As(err, &le) || ctx.Err() != nil {
		return err
	}
	c.halt() // the decompressor no longer reads br
	if _, rerr := io.Copy(io.Discard, c.br); rerr != nil {
		return err
	}
	var de *DigestError
	if _, verr := c.blob.verify(); errors.As(verr, &de) {
		return fmt.Errorf("%w; decoding it failed: %w", de, err)
	}
	return err
}

func decompressErr(c compression, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s stream: %w: %w", c, ErrTruncated, err)
	}
	var le *LimitError
	var de *DigestError
	if errors.As(err, &le) || errors.As(err, &de) {
		return err
	}
	return fmt.Errorf("%s stream: %w", c, err)
}

// entryReader yields the entries of a layer: a tar stream, or a directory
// walk for dir: targets.
type entryReader interface {
	Next() (*tar.Header, error)
	io.Reader
	Close() error
}

type tarReader struct{ *tar.Reader }

func (tarReader) Close() error { return nil }

// entries0 reads the entries of one layer.
func (w *walker) entries0(ctx context.Context, l *Layer, er entryReader, lr *LayerRead) error {
	var e Entry
	last := "" // the entry whose bytes Next skips, named in its errors
	for {
		h, err := er.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			at := fmt.Sprintf("reading tar after %d entries", lr.Entries)
			if last != "" {
				at = fmt.Sprintf("reading tar after entry %q (%d entries)", last, lr.Entries)
			}
			if errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrTruncated) {
				return fmt.Errorf("%s: %w: %w", at, ErrTruncated, err)
			}
			return fmt.Errorf("%s: %w", at, err)
		}
		if lr.Entries%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		lr.Entries++
		w.entries++
		if w.lim.Entries > 0 && w.entries > w.lim.Entries {
			return fmt.Errorf("entry %.80q: %w", h.Name, &LimitError{Limit: "tar entries", Value: w.lim.Entries, Flag: "--max-entries"})
		}
		if w.lim.PathLen > 0 && int64(len(h.Name)) > w.lim.PathLen {
			return fmt.Errorf("entry %.80q...: %w", h.Name, &LimitError{Limit: "path length", Value: w.lim.PathLen, Flag: "--max-path-length"})
		}
		last = h.Name
		if w.lim.EntryBytes > 0 && h.Size > w.lim.EntryBytes {
			return fmt.Errorf("entry %q: %w", h.Name, &LimitError{Limit: fmt.Sprintf("entry size (%d bytes)", h.Size), Value: w.lim.EntryBytes, Flag: "--max-entry-bytes"})
		}
		if h.Size < 0 {
			return fmt.Errorf("entry %q: negative size %d", h.Name, h.Size)
		}
		// archive/tar expands a sparse entry's holes above the stream the
		// byte limits count: charge them, or a few bytes of sparse map
		// would feed visitors gigabytes of zeros.
		if w.stream != nil && isSparse(h) {
			if err := w.stream.charge(h.Size); err != nil {
				return fmt.Errorf("entry %q: %w", h.Name, err)
			}
		}
		skip, err := w.classify(l.Index, h, &e)
		if err != nil {
			return fmt.Errorf("entry %q: %w", h.Name, err)
		}
		if skip {
			continue
		}
		if e.Kind == KindFile {
			lr.ContentBytes += h.Size
		}
		if err := w.offer(er, &e); err != nil {
			return fmt.Errorf("entry %q: %w", h.Name, err)
		}
	}
}

// classify fills e from h and records it in the tree. skip reports
// entries that carry no filesystem meaning (PAX globals, aufs metadata,
// the root directory).
func (w *walker) classify(layer int, h *tar.Header, e *Entry) (skip bool, err error) {
	p, err := cleanEntryPath(h.Name)
	if err != nil {
		return false, err
	}
	*e = Entry{Layer: layer, Path: p, Header: h}
	dir, base := path.Split(p)
	dir = path.Clean(dir)
	v := Version{Mode: fs.FileMode(h.Mode).Perm() | specialBits(h.Mode), UID: h.Uid, GID: h.Gid}
	switch {
	case h.Typeflag == tar.TypeXGlobalHeader:
		return true, nil
	case base == ".wh..wh..opq":
		e.Kind, e.Path = KindOpaque, dir
	case strings.HasPrefix(base, ".wh..wh."):
		return true, nil // aufs hard-link bookkeeping, not files
	case strings.HasPrefix(base, ".wh."):
		name := strings.TrimPrefix(base, ".wh.")
		if name == "" || name == "." || name == ".." {
			return false, fmt.Errorf("whiteout %q names no file", base)
		}
		e.Kind, e.Path = KindWhiteout, path.Join(dir, name)
	case p == "/":
		return true, nil
	default:
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
			e.Kind, e.Size = KindFile, h.Size
		case tar.TypeDir:
			e.Kind = KindDir
		case tar.TypeSymlink:
			e.Kind, e.Link = KindSymlink, h.Linkname
			if h.Linkname == "" {
				return false, errors.New("symlink with an empty target")
			}
		case tar.TypeLink:
			target, err := cleanEntryPath(h.Linkname)
			if err != nil {
				return false, fmt.Errorf("hard link target %q: %w", h.Linkname, err)
			}
			if target == p {
				return false, errors.New("hard link to itself")
			}
			if n := w.tree.lookup(target, false); n == nil || !w.hasTargetNow(n, layer) {
				return false, fmt.Errorf("hard link target %q does not exist", h.Linkname)
			}
			e.Kind, e.Link = KindHardlink, target
		default:
			e.Kind = KindOther
		}
	}
	v.Kind, v.Size, v.Link = e.Kind, e.Size, e.Link
	w.tree.add(e.Path, layer, e.Kind, v)
	return false, nil
}

// hasTargetNow reports whether a hard link target exists as a file when
// the link is applied: written earlier in this layer or visible below it.
func (w *walker) hasTargetNow(n *node, layer int) bool {
	if ev, ok := w.tree.visibleBefore(n, layer+1); ok {
		return ev.kind != KindDir
	}
	return false
}

func specialBits(mode int64) fs.FileMode {
	var m fs.FileMode
	if mode&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if mode&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if mode&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// cleanEntryPath turns a tar name into a clean absolute path, refusing
// absolute names and names that climb out of the root: an extractor that
// trusted them would write outside its target.
func cleanEntryPath(name string) (string, error) {
	if name == "" {
		return "", errors.New("empty name")
	}
	if strings.IndexByte(name, 0) >= 0 {
		return "", fmt.Errorf("name holds a NUL byte: %w", ErrInsecurePath)
	}
	if name[0] == '/' {
		return "", ErrInsecurePath
	}
	// One pass over the segments, without splitting: "..", never above
	// the root; and whether the name is already clean ("a/b", not "a//b",
	// "./a", "a/" or "a/.."), which most are, so that path.Clean and its
	// copy are needed only for the rest.
	depth, clean := 0, true
	for rest := name; ; {
		seg := rest
		i := strings.IndexByte(rest, '/')
		if i >= 0 {
			seg, rest = rest[:i], rest[i+1:]
		}
		switch seg {
		case "", ".":
			clean = false
		case "..":
			clean = false
			if depth--; depth < 0 {
				return "", ErrInsecurePath
			}
		default:
			depth++
		}
		if i < 0 {
			break
		}
	}
	if clean {
		return "/" + name, nil
	}
	return path.Clean("/" + name), nil
}

// offer hands an entry to the visitors and its bytes to those that want
// them.
func (w *walker) offer(r io.Reader, e *Entry) error {
	if e.Kind == KindFile && e.Size > 0 {
		n, err := io.ReadFull(r, w.magic[:min(int64(len(w.magic)), e.Size)])
		if err != nil {
			return readErr(err)
		}
		e.Magic = w.magic[:n]
	}
	w.want = w.want[:0]
	for _, v := range w.visitors {
		if v.Visit(e) && e.Kind == KindFile {
			w.want = append(w.want, v)
		}
	}
	if len(w.want) == 0 {
		return nil
	}
	content := io.MultiReader(bytes.NewReader(e.Magic), io.LimitReader(r, e.Size-int64(len(e.Magic))))
	if len(w.want) == 1 {
		if err := w.want[0].Content(e, content); err != nil {
			// A visitor passes on the stream's errors as it read them.
			if errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrTruncated) {
				return fmt.Errorf("content: %w: %w", ErrTruncated, err)
			}
			return err
		}
		// Hide the MultiReader's WriteTo, which allocates a buffer each
		// time: io.Discard's ReadFrom reuses pooled ones.
		_, err := io.Copy(io.Discard, struct{ io.Reader }{content})
		return readErr(err)
	}
	return fanOut(e, content, w.want)
}

func readErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("content: %w: %w", ErrTruncated, io.ErrUnexpectedEOF)
	}
	return err
}

// fanOut streams one file to several visitors, each reading at its own
// pace through a pipe. A visitor that stops early is dropped from the copy.
func fanOut(e *Entry, r io.Reader, vs []Visitor) error {
	type sink struct {
		pw   *io.PipeWriter
		dead bool
	}
	sinks := make([]*sink, len(vs))
	errs := make([]error, len(vs))
	var wg sync.WaitGroup
	for i, v := range vs {
		pr, pw := io.Pipe()
		sinks[i] = &sink{pw: pw}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = v.Content(e, pr)
			pr.CloseWithError(errVisitorDone)
		}()
	}
	buf := make([]byte, 64<<10)
	var rerr error
	for {
		n, err := r.Read(buf)
		if n > 0 {
			for _, s := range sinks {
				if !s.dead {
					if _, werr := s.pw.Write(buf[:n]); werr != nil {
						s.dead = true
					}
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			rerr = readErr(err)
			break
		}
	}
	for _, s := range sinks {
		s.pw.CloseWithError(rerr)
	}
	wg.Wait()
	if rerr != nil {
		return rerr
	}
	return errors.Join(errs...)
}

var errVisitorDone = errors.New("visitor done")

// hashCounter counts and hashes the blob as it is read, reports progress,
// and checks the digest at the end. It runs on the blob's readahead
// goroutine; n and the hash are read once that reader reached its end.
type hashCounter struct {
	r        io.Reader
	h        hash.Hash
	want     v1.Hash
	n        int64
	done     *atomic.Int64
	progress func(done, total int64)
	total    int64
	last     int64
}

func newHashCounter(r io.Reader, want v1.Hash, done *atomic.Int64, progress func(int64, int64), total int64) *hashCounter {
	hc := &hashCounter{r: r, want: want, done: done, progress: progress, total: total}
	if want.Hex == "" || want.Algorithm == "sha256" {
		hc.h = sha256.New()
	}
	return hc
}

func (c *hashCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		if c.h != nil {
			c.h.Write(p[:n])
		}
		c.n += int64(n)
		d := c.done.Add(int64(n))
		if c.progress != nil && d-c.last >= 1<<20 {
			c.last = d
			c.progress(d, c.total)
		}
	}
	return n, err
}

// verify compares the digest; it returns the computed digest.
func (c *hashCounter) verify() (v1.Hash, error) {
	if c.progress != nil {
		c.progress(c.done.Load(), c.total)
	}
	if c.h == nil {
		return c.want, fmt.Errorf("digest algorithm %q is not supported", c.want.Algorithm)
	}
	got := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(c.h.Sum(nil))}
	if c.want.Hex != "" && got != c.want {
		return got, &DigestError{Want: c.want, Got: got}
	}
	return got, nil
}

// consumedCounter counts the compressed bytes the decompressor has read.
// n is read from the tar side of the stream readahead.
type consumedCounter struct {
	r io.Reader
	n atomic.Int64
}

func (c *consumedCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// tarCounter counts and hashes the uncompressed stream and enforces the
// byte limits, including the expansion ratio that stops bombs.
type tarCounter struct {
	r     io.Reader
	h     hash.Hash
	n     int64
	holes int64         // sparse holes charged by charge, not part of n
	comp  *atomic.Int64 // compressed bytes taken by the decompressor
	w     *walker
}

func (c *tarCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		if c.h != nil {
			c.h.Write(p[:n])
		}
		c.n += int64(n)
		if lerr := c.count(int64(n)); lerr != nil {
			return n, lerr
		}
	}
	return n, err
}

// charge counts the holes of a sparse entry as uncompressed bytes.
func (c *tarCounter) charge(n int64) error {
	c.holes += n
	return c.count(n)
}

// count adds n uncompressed bytes and checks the byte limits.
func (c *tarCounter) count(n int64) error {
	c.w.allBytes += n
	lim := c.w.lim
	if lim.TotalBytes > 0 && c.w.allBytes > lim.TotalBytes {
		return &LimitError{Limit: "total uncompressed bytes", Value: lim.TotalBytes, Flag: "--max-total-bytes"}
	}
	return ratioCheck(c.n+c.holes, c.comp.Load(), lim.Ratio)
}

// ratioCheck is the decompression-bomb guard: out uncompressed bytes made
// from comp compressed ones, once past ratioGrace, may not exceed ratio.
func ratioCheck(out, comp, ratio int64) error {
	if ratio > 0 && out > ratioGrace {
		if comp = max(comp, 1); out/comp > ratio {
			return &LimitError{Limit: fmt.Sprintf("expansion ratio (%d bytes from %d compressed: a decompression bomb?)", out, comp), Value: ratio, Flag: "--max-ratio"}
		}
	}
	return nil
}

// isSparse reports a GNU sparse entry, old style or PAX.
func isSparse(h *tar.Header) bool {
	if h.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}
