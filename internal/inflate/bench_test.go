package inflate_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"sync"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"

	"github.com/redline-go/redline/internal/inflate"
)

// benchData is 32 MiB of a Go binary (the go command, or this test binary)
// interleaved with generated text, gzip'ed by compress/gzip at the default
// level: roughly what an image layer full of Go programs looks like.
var benchData = sync.OnceValues(func() (gz []byte, size int) {
	const total = 32 << 20
	bin := binaryCorpus(16 << 20)
	text := textCorpus(8<<20, 71)
	raw := make([]byte, 0, total)
	for i := 0; len(raw) < total; i++ {
		const chunk = 1 << 20
		if i%3 == 2 {
			off := (i * chunk / 3) % (len(text) - chunk)
			raw = append(raw, text[off:off+chunk]...)
		} else {
			off := (i * chunk) % (len(bin) - chunk)
			raw = append(raw, bin[off:off+chunk]...)
		}
	}
	raw = raw[:total]
	return gzipBytes(raw, gzip.DefaultCompression), len(raw)
})

// gzipReader is what the three decoders have in common.
type gzipReader interface {
	io.Reader
	Reset(io.Reader) error
}

func BenchmarkInflate(b *testing.B) {
	gz, size := benchData()
	for _, d := range []struct {
		name string
		open func(io.Reader) (gzipReader, error)
	}{
		{"ours", func(r io.Reader) (gzipReader, error) { return inflate.NewGzipReader(r) }},
		{"klauspost", func(r io.Reader) (gzipReader, error) { return kgzip.NewReader(r) }},
		{"stdlib", func(r io.Reader) (gzipReader, error) { return gzip.NewReader(r) }},
	} {
		b.Run(d.name, func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			z, err := d.open(bytes.NewReader(gz))
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; b.Loop(); i++ {
				if i > 0 {
					if err := z.Reset(bytes.NewReader(gz)); err != nil {
						b.Fatal(err)
					}
				}
				if n, err := io.Copy(io.Discard, z); err != nil || n != int64(size) {
					b.Fatalf("n=%d err=%v", n, err)
				}
			}
		})
	}
}
