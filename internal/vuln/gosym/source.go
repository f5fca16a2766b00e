package gosym

import (
	"errors"
	"fmt"
	"io"
	"sort"
)

// A source is the file being read: all of it (Read), or the parts of it that a
// Collector kept while the file streamed past. The table is built by the same
// code from either, so both give the same answer whenever the Collector kept
// what that code reads.
type source interface {
	io.ReaderAt
	// avail returns the parts of [off, off+n) that can be read, in file order.
	avail(off, n int64) []span
}

type span struct{ off, n int64 }

// fullSource is a whole file.
type fullSource struct {
	r    io.ReaderAt
	size int64
}

func (s fullSource) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > s.size || int64(len(p)) > s.size-off {
		return 0, io.ErrUnexpectedEOF
	}
	n, err := s.r.ReadAt(p, off)
	if n == len(p) {
		return n, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (s fullSource) avail(off, n int64) []span {
	if off < 0 || n <= 0 || off >= s.size {
		return nil
	}
	return []span{{off, min(n, s.size-off)}}
}

// errNotKept is returned when code asks a Collector's source for bytes it did
// not keep.
var errNotKept = errors.New("gosym: bytes not kept by the Collector")

// sparseSource is what a Collector kept: chunks sorted by offset, neither
// overlapping nor touching.
type sparseSource struct {
	chunks []chunk
}

type chunk struct {
	off  int64
	data []byte
}

func (s *sparseSource) find(off int64) int {
	// The last chunk starting at or before off.
	return sort.Search(len(s.chunks), func(i int) bool { return s.chunks[i].off > off }) - 1
}

func (s *sparseSource) ReadAt(p []byte, off int64) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	i := s.find(off)
	if i < 0 {
		return 0, fmt.Errorf("%w: [%d, %d)", errNotKept, off, off+int64(len(p)))
	}
	c := s.chunks[i]
	if off-c.off+int64(len(p)) > int64(len(c.data)) {
		return 0, fmt.Errorf("%w: [%d, %d)", errNotKept, off, off+int64(len(p)))
	}
	return copy(p, c.data[off-c.off:]), nil
}

func (s *sparseSource) avail(off, n int64) []span {
	var out []span
	end := off + n
	i := max(s.find(off), 0)
	for ; i < len(s.chunks); i++ {
		c := s.chunks[i]
		if c.off >= end {
			break
		}
		lo, hi := max(off, c.off), min(end, c.off+int64(len(c.data)))
		if lo < hi {
			out = append(out, span{lo, hi - lo})
		}
	}
	return out
}

// add appends data at off, which must not be before the end of the last
// chunk. A new chunk gets room for hint bytes.
func (s *sparseSource) add(off int64, data []byte, hint int) {
	if n := len(s.chunks); n > 0 {
		last := &s.chunks[n-1]
		if last.off+int64(len(last.data)) == off {
			last.data = append(last.data, data...)
			return
		}
	}
	b := make([]byte, 0, max(hint, len(data)))
	s.chunks = append(s.chunks, chunk{off, append(b, data...)})
}

// slice returns the kept bytes [off, off+n) without copying them.
func (s *sparseSource) slice(off, n int64) ([]byte, bool) {
	i := s.find(off)
	if i < 0 || n < 0 {
		return nil, false
	}
	c := s.chunks[i]
	if off-c.off+n > int64(len(c.data)) {
		return nil, false
	}
	return c.data[off-c.off : off-c.off+n : off-c.off+n], true
}
