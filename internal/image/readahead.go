package image

import (
	"io"
	"sync"
)

// readahead runs a reader (a decompressor) on its own goroutine, a few
// buffers ahead of the consumer, so that decompression and tar parsing use
// both cores.
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
