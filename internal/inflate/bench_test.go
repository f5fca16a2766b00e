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

func BenchmarkInflate(b *testing.B) {
	gz, size := benchData()
	b.Run("ours", func(b *testing.B) {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		z, err := inflate.NewGzipReader(bytes.NewReader(gz))
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
	b.Run("klauspost", func(b *testing.B) {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		z, err := kgzip.NewReader(bytes.NewReader(gz))
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
	b.Run("stdlib", func(b *testing.B) {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		z, err := gzip.NewReader(bytes.NewReader(gz))
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
