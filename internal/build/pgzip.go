package build

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"

	"github.com/klauspost/compress/flate"
)

// gzipChunk is the input each deflate job compresses. The output depends on
// it, never on the number of workers, so it is fixed: changing it changes
// every layer digest redline has ever produced.
const gzipChunk = 1 << 20

// blockSize is how much input one deflate block covers: a sync flush every
// 32 KiB lets the Huffman tables follow the content (code, tables, strings
// of a binary), which makes levels 8 and 9 about 0.4% smaller for 5 bytes a
// flush.
// Like gzipChunk, it decides the bytes.
const blockSize = 32 << 10

// gzipFormat numbers the revisions of this writer's output for the same
// input, level and chunk size (2: the XFL header byte follows the level);
// the layer cache keys blobs by it, so a blob written before a revision is
// never taken for one written after it.
const gzipFormat = 2

// dictSize is deflate's window: each chunk is primed with the input that
// precedes it, so matches reach across chunk boundaries as in one stream.
const dictSize = 32 << 10

// pgzipWriter is a deterministic parallel gzip writer, pigz's scheme: the
// input is cut into fixed chunks, each compressed on its own goroutine with
// the previous 32 KiB as dictionary and ended with a sync flush (the last
// with the final block), and the deflate streams are concatenated in order
// behind one gzip header. Within a chunk a sync flush ends a block every
// blockSize bytes. The bytes depend only on the input, the level and
// the chunk size, so layer digests are reproducible; on two cores a high
// level costs half the wall time of one stream, and the output is a little
// smaller (the flushes start fresh Huffman tables every MiB).
//
// Memory is bounded by (workers+1) chunks of input and their outputs.
type pgzipWriter struct {
	w     io.Writer
	level int
	crc   uint32
	size  uint32 // ISIZE: input length mod 2^32

	buf     []byte // the chunk being filled
	prev    []byte // tail of the previous chunk (dictionary)
	pending []*gzJob
	sem     chan struct{}
	err     error
	started bool
}

type gzJob struct {
	done chan struct{}
	out  bytes.Buffer
	err  error
}

func newPgzipWriter(w io.Writer, level, workers int) *pgzipWriter {
	return &pgzipWriter{w: w, level: level, sem: make(chan struct{}, max(workers, 1)), buf: make([]byte, 0, gzipChunk)}
}

func (z *pgzipWriter) Write(p []byte) (int, error) {
	if z.err != nil {
		return 0, z.err
	}
	n := len(p)
	z.crc = crc32.Update(z.crc, crc32.IEEETable, p)
	z.size += uint32(len(p))
	for len(p) > 0 {
		k := min(gzipChunk-len(z.buf), len(p))
		z.buf = append(z.buf, p[:k]...)
		p = p[k:]
		if len(z.buf) == gzipChunk {
			if err := z.dispatch(false); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// dispatch starts compressing the current chunk and writes out finished
// chunks in order, keeping at most cap(sem) jobs in flight.
func (z *pgzipWriter) dispatch(last bool) error {
	if !z.started {
		z.started = true
		// ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL OS=255 (unknown); XFL
		// is 2 for the best level, 4 for the fastest, as gzip sets it.
		var xfl byte
		switch z.level {
		case flate.BestCompression:
			xfl = 2
		case flate.BestSpeed:
			xfl = 4
		}
		if _, err := z.w.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 255}); err != nil {
			z.err = err
			return err
		}
	}
	chunk, dict := z.buf, z.prev
	j := &gzJob{done: make(chan struct{})}
	z.sem <- struct{}{}
	go func() {
		defer func() { <-z.sem; close(j.done) }()
		fw, err := flate.NewWriterDict(&j.out, z.level, dict)
		if err != nil {
			j.err = err
			return
		}
		for p := chunk; len(p) > 0; {
			k := min(blockSize, len(p))
			if _, err := fw.Write(p[:k]); err != nil {
				j.err = err
				return
			}
			p = p[k:]
			if len(p) > 0 {
				if err := fw.Flush(); err != nil {
					j.err = err
					return
				}
			}
		}
		if last {
			j.err = fw.Close()
		} else {
			j.err = fw.Flush()
		}
	}()
	z.pending = append(z.pending, j)
	if !last {
		tail := chunk[max(0, len(chunk)-dictSize):]
		z.prev = append(make([]byte, 0, dictSize), tail...)
		z.buf = make([]byte, 0, gzipChunk)
	}
	// Write out what is finished, in order, and wait when the pipeline is
	// full so memory stays bounded.
	for len(z.pending) > 0 {
		head := z.pending[0]
		if len(z.pending) <= cap(z.sem) && !last {
			select {
			case <-head.done:
			default:
				return nil
			}
		}
		<-head.done
		if head.err != nil {
			z.err = head.err
			return head.err
		}
		if _, err := z.w.Write(head.out.Bytes()); err != nil {
			z.err = err
			return err
		}
		z.pending = z.pending[1:]
	}
	return nil
}

// Close compresses the rest, writes the trailer and waits for every job.
// It does not close the underlying writer.
func (z *pgzipWriter) Close() error {
	if z.err != nil {
		for _, j := range z.pending {
			<-j.done
		}
		return z.err
	}
	if err := z.dispatch(true); err != nil {
		return err
	}
	var trailer [8]byte
	binary.LittleEndian.PutUint32(trailer[0:], z.crc)
	binary.LittleEndian.PutUint32(trailer[4:], z.size)
	_, err := z.w.Write(trailer[:])
	return err
}
