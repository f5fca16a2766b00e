package image

import (
	"context"
	"crypto/sha256"
	"hash"
	"io"
	"os"
	"sync"
)

// DefaultPrefetchBytes bounds how much of the next layer the pass inflates
// ahead, into a temporary file, while visitors work on the current one.
//
// Inflating is the pass's critical path and runs on one core per layer;
// visitors must see layers in order, and memory must not grow with bytes
// (DESIGN.md), so the next layer's tar stream is kept on disk, in a file
// that is unlinked as soon as it is made: nothing is left behind, whatever
// happens to the process, and no entry of the layer is ever extracted.
// Page cache, not the process, holds what is read back soon.
const DefaultPrefetchBytes = 1 << 30

// prefetch opens the next layer's chain and starts inflating it into a
// spool. A layer that fails to open here reports its error when the walk
// reaches it.
func (w *walker) prefetch(ctx context.Context, l *Layer) {
	if w.spoolMax <= 0 || l.walk != nil {
		return
	}
	c, err := w.openChain(ctx, l)
	if err != nil {
		// Reported when the walk reaches the layer, so errors keep their
		// order (and a failing registry is not asked twice).
		w.pendingErr = &pendingErr{layer: l, err: err}
		return
	}
	w.pending = c
	if c.comp == compNone {
		return // nothing to inflate: spooling would only copy bytes
	}
	f, err := os.CreateTemp("", "redline-layer-*")
	if err != nil {
		return // no spool: the layer streams as usual, from the open chain
	}
	os.Remove(f.Name())
	s := &spool{f: f, src: c.stream, max: w.spoolMax, in: &c.in.n, ratio: w.lim.Ratio, exited: make(chan struct{})}
	if l.DiffID.Hex != "" {
		// The diff ID's SHA-256 is computed here, on the producer, while the
		// previous layer is walked, instead of on this layer's turn.
		s.h = sha256.New()
	}
	s.cond = sync.NewCond(&s.mu)
	c.spool = s
	go s.run()
}

// spool is the next layer's tar stream, inflated ahead into an unlinked
// file up to max bytes; its reader gives the file's bytes, then (when the
// producer stopped at max, or could not write) the live stream.
type spool struct {
	f     *os.File
	src   io.Reader
	max   int64
	in    interface{ Load() int64 } // compressed bytes the decompressor took
	ratio int64
	// h, when set, hashes the whole stream: the producer what it read
	// (written to f or kept pending), Read what it takes from src after.
	h hash.Hash

	mu      sync.Mutex
	cond    *sync.Cond
	written int64  // bytes in f
	pending []byte // read from src but not written (the file filled up)
	end     bool   // src ended: err says how (nil at EOF)
	err     error
	live    bool // the producer stopped early: read src after the file
	closed  bool
	exited  chan struct{}

	pos int64 // the reader's offset in f
	// buf holds f's bytes [bufAt, bufAt+len(buf)): the tar reader asks for
	// 512-byte headers, and a pread each cost a syscall per entry (10 %
	// of the pass on an image of 400,000 tiny files).
	buf   []byte
	bufAt int64
}

// spoolReadSize is how much of the spool file one pread takes.
const spoolReadSize = 256 << 10

// run is the producer.
func (s *spool) run() {
	defer close(s.exited)
	buf := make([]byte, 1<<20)
	for {
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return
		}
		n, err := s.src.Read(buf)
		if n > 0 {
			if s.h != nil {
				// Pending bytes, if the write falls short, come next in
				// the stream too.
				s.h.Write(buf[:n])
			}
			m, werr := s.f.WriteAt(buf[:n], s.written)
			s.mu.Lock()
			s.written += int64(m)
			if werr != nil {
				// The disk is full, or the file cannot grow: keep what was
				// read and let the reader go on from the live stream.
				s.pending = append([]byte(nil), buf[m:n]...)
				s.live = true
				s.cond.Broadcast()
				s.mu.Unlock()
				return
			}
			// The same bomb guard the tar side applies, here where the
			// bytes are made: a bomb must not fill the disk up to max.
			if lerr := ratioCheck(s.written, s.in.Load(), s.ratio); lerr != nil {
				s.end, s.err = true, lerr
				s.cond.Broadcast()
				s.mu.Unlock()
				return
			}
			s.cond.Broadcast()
			full := s.written >= s.max
			if full && err == nil {
				s.live = true
				s.mu.Unlock()
				return
			}
			s.mu.Unlock()
		}
		if err != nil {
			s.mu.Lock()
			s.end = true
			if err != io.EOF {
				s.err = err
			}
			s.cond.Broadcast()
			s.mu.Unlock()
			return
		}
	}
}

// Read implements io.Reader for the walk.
func (s *spool) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.mu.Lock()
	for s.pos == s.written && !s.end && !s.live && !s.closed {
		s.cond.Wait()
	}
	switch {
	case s.pos < s.written:
		written := s.written
		s.mu.Unlock()
		if s.pos < s.bufAt || s.pos >= s.bufAt+int64(len(s.buf)) {
			// Refill from f: as much as is written, up to spoolReadSize.
			if s.buf == nil {
				s.buf = make([]byte, spoolReadSize)
			}
			n := min(int64(cap(s.buf)), written-s.pos)
			m, err := s.f.ReadAt(s.buf[:n], s.pos)
			s.buf, s.bufAt = s.buf[:m], s.pos
			if m == 0 {
				if err == nil || err == io.EOF {
					err = io.ErrUnexpectedEOF // written bytes must be there
				}
				return 0, err
			}
		}
		m := copy(p, s.buf[s.pos-s.bufAt:])
		s.pos += int64(m)
		return m, nil
	case s.closed:
		s.mu.Unlock()
		return 0, errReadaheadClosed
	case s.end:
		err := s.err
		s.mu.Unlock()
		if err == nil {
			err = io.EOF
		}
		return 0, err
	}
	// live: the producer has returned and no longer touches src.
	s.mu.Unlock()
	<-s.exited
	if len(s.pending) > 0 {
		n := copy(p, s.pending)
		s.pending = s.pending[n:]
		return n, nil
	}
	n, err := s.src.Read(p)
	if s.h != nil {
		s.h.Write(p[:n])
	}
	return n, err
}

// stopProducer marks the spool closed: the producer returns at its next
// step (the caller then stops the decompressor, which unblocks a producer
// waiting in src.Read), and readers get an error.
func (s *spool) stopProducer() {
	s.mu.Lock()
	s.closed = true
	s.cond.Broadcast()
	s.mu.Unlock()
}

// release waits for the producer and frees the file.
func (s *spool) release() {
	<-s.exited
	s.f.Close()
}

// pendingErr is the next layer's failure to open, kept for its turn.
type pendingErr struct {
	layer *Layer
	err   error
}
