package image

import (
	"errors"
	"io"
	"sync"
)

// Buffers of the two readaheads of a layer: the blob (read and digest)
// and the decompressed stream (inflate). Together 3 MiB a layer; the
// stream side holds more so that the decompressor, the critical path, need
// not stop while a visitor works through a large file: each time it does,
// waking it again costs a scheduler hand-off between the two cores.
const (
	blobBuffers      = 4
	blobBufferSize   = 1 << 18
	streamBuffers    = 8
	streamBufferSize = 1 << 18
)

// errReadaheadClosed is what a readahead returns once Close stopped it
// before the end of its reader.
var errReadaheadClosed = errors.New("image: read after the readahead was closed")

// readahead runs a reader (a decompressor, a blob with its digest) on its
// own goroutine, a few buffers ahead of the consumer, so that the stages
// of a layer use both cores.
type readahead struct {
	full chan []byte
	free chan []byte
	stop chan struct{}
	once sync.Once
	cur  []byte // unread part of buf
	buf  []byte // buffer being consumed, returned to free when empty
	err  error  // set before full is closed
	wg   sync.WaitGroup
}

func newReadahead(r io.Reader, nbuf, size int) *readahead {
	ra := &readahead{
		full: make(chan []byte, nbuf),
		free: make(chan []byte, nbuf),
		stop: make(chan struct{}),
	}
	for range nbuf {
		ra.free <- make([]byte, size)
	}
	ra.wg.Add(1)
	go ra.run(r)
	return ra
}

func (ra *readahead) run(r io.Reader) {
	defer ra.wg.Done()
	defer close(ra.full)
	for {
		var buf []byte
		select {
		case buf = <-ra.free:
		case <-ra.stop:
			return
		}
		n, err := fill(r, buf[:cap(buf)])
		if n > 0 {
			select {
			case ra.full <- buf[:n]:
			case <-ra.stop:
				return
			}
		}
		if err != nil {
			ra.err = err
			return
		}
	}
}

func (ra *readahead) Read(p []byte) (int, error) {
	for len(ra.cur) == 0 {
		if ra.buf != nil {
			ra.free <- ra.buf
			ra.buf = nil
		}
		b, ok := <-ra.full
		if !ok {
			if ra.err == nil {
				return 0, errReadaheadClosed
			}
			return 0, ra.err
		}
		ra.buf, ra.cur = b, b
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// Close stops the producer and waits for it, so the underlying reader is
// no longer in use when Close returns.
func (ra *readahead) Close() {
	ra.once.Do(func() {
		close(ra.stop)
		for range ra.full {
		}
		ra.wg.Wait()
	})
}

// fill reads until buf is full or the reader fails. Unlike io.ReadFull it
// passes errors through unchanged, so a truncated stream's
// io.ErrUnexpectedEOF is never mistaken for a clean end.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
