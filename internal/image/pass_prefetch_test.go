package image

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"testing"
)

func newTestSpool(t *testing.T, src io.Reader, max int64, in *atomic.Int64) *spool {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "spool-*")
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(f.Name())
	s := &spool{f: f, src: src, max: max, in: in, ratio: DefaultLimits.Ratio, exited: make(chan struct{}), h: sha256.New()}
	s.cond = sync.NewCond(&s.mu)
	go s.run()
	t.Cleanup(func() { s.stopProducer(); s.release() })
	return s
}

// patterned is n bytes that are not all alike.
func patterned(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// The reader gives the source's bytes exactly, whether the producer
// spooled them all, stopped at max and handed over the live stream, or
// could not write at all.
func TestSpoolGivesTheSourceBytes(t *testing.T) {
	data := patterned(3<<20 + 123)
	want := sha256.Sum256(data)
	for _, c := range []struct {
		name string
		max  int64
	}{
		{"all spooled", 1 << 30},
		{"max reached, then live", 1 << 20},
		{"max smaller than a read", 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			var in atomic.Int64
			in.Store(1 << 30)
			s := newTestSpool(t, bytes.NewReader(data), c.max, &in)
			got, err := io.ReadAll(s)
			if err != nil {
				t.Fatal(err)
			}
			if sha256.Sum256(got) != want || len(got) != len(data) {
				t.Fatalf("read %d bytes, want %d, and the same bytes", len(got), len(data))
			}
			if !bytes.Equal(s.h.Sum(nil), want[:]) {
				t.Error("the spool's own hash of the stream is not the source's SHA-256")
			}
		})
	}
	t.Run("the file cannot be written", func(t *testing.T) {
		var in atomic.Int64
		in.Store(1 << 30)
		f, err := os.CreateTemp(t.TempDir(), "spool-*")
		if err != nil {
			t.Fatal(err)
		}
		f.Close() // every WriteAt fails, as on a full disk
		ro, err := os.Open(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		s := &spool{f: ro, src: bytes.NewReader(data), max: 1 << 30, in: &in, exited: make(chan struct{}), h: sha256.New()}
		s.cond = sync.NewCond(&s.mu)
		go s.run()
		defer func() { s.stopProducer(); s.release() }()
		got, err := io.ReadAll(s)
		if err != nil {
			t.Fatal(err)
		}
		if sha256.Sum256(got) != want {
			t.Fatalf("read %d bytes, want %d, and the same bytes", len(got), len(data))
		}
		if !bytes.Equal(s.h.Sum(nil), want[:]) {
			t.Error("the spool's own hash of the stream (pending bytes included) is not the source's SHA-256")
		}
	})
}

// zeros is an endless source, as a decompression bomb is.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// A bomb in the next layer is stopped where its bytes are made, with the
// same LimitError the tar side gives, before it fills the disk to max.
func TestSpoolStopsABomb(t *testing.T) {
	if testing.Short() {
		t.Skip("spools 256 MiB")
	}
	var in atomic.Int64
	in.Store(1 << 10) // a kilobyte of compressed input
	s := newTestSpool(t, zeros{}, 1<<40, &in)
	_, err := io.Copy(io.Discard, s)
	var le *LimitError
	if !errors.As(err, &le) || le.Flag != "--max-ratio" {
		t.Fatalf("err = %v, want the ratio LimitError", err)
	}
	s.mu.Lock()
	written := s.written
	s.mu.Unlock()
	if written > ratioGrace+(1<<20) {
		t.Errorf("spooled %d bytes of a bomb, want at most the grace (%d) and one read", written, ratioGrace)
	}
}

// A closed spool unblocks its reader and its producer.
func TestSpoolStop(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	var in atomic.Int64
	f, err := os.CreateTemp(t.TempDir(), "spool-*")
	if err != nil {
		t.Fatal(err)
	}
	s := &spool{f: f, src: pr, max: 1 << 20, in: &in, exited: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	go s.run()
	done := make(chan error, 1)
	go func() {
		_, err := s.Read(make([]byte, 10))
		done <- err
	}()
	s.stopProducer()
	pr.CloseWithError(errReadaheadClosed) // what stopping the decompressor does
	if err := <-done; !errors.Is(err, errReadaheadClosed) {
		t.Errorf("reader got %v", err)
	}
	s.release()
}
