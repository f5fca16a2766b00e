package inflate

import (
	"bufio"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
)

var (
	// ErrHeader is a gzip member header that is not one, or bytes after
	// a member that do not start another.
	ErrHeader = errors.New("gzip: invalid header")
	// ErrChecksum is a member whose CRC-32 or length does not match its
	// trailer.
	ErrChecksum = errors.New("gzip: invalid checksum")
)

// Header flags (RFC 1952 section 2.3.1).
const (
	flagHdrCRC  = 1 << 1
	flagExtra   = 1 << 2
	flagName    = 1 << 3
	flagComment = 1 << 4
	// maxHeaderString is the longest name or comment taken, terminator
	// included, as compress/gzip does.
	maxHeaderString = 512
)

// GzipReader decompresses a gzip stream of one or more members, read
// back to back as one stream (as compress/gzip does by default).
type GzipReader struct {
	br   *bufio.Reader
	d    *Reader
	crc  uint32
	size uint32
	err  error
	buf  [10]byte
}

// NewGzipReader reads the first member's header from r. An empty r is
// io.EOF.
func NewGzipReader(r io.Reader) (*GzipReader, error) {
	z := &GzipReader{}
	if err := z.Reset(r); err != nil {
		return nil, err
	}
	return z, nil
}

// Reset makes z read the gzip stream r, keeping its buffers.
func (z *GzipReader) Reset(r io.Reader) error {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, inSize)
	}
	z.br, z.crc, z.size, z.err = br, 0, 0, nil
	z.err = z.header()
	return z.err
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// header reads a member header and readies the inflater for its body.
func (z *GzipReader) header() error {
	if _, err := io.ReadFull(z.br, z.buf[:10]); err != nil {
		return err
	}
	if z.buf[0] != 0x1f || z.buf[1] != 0x8b || z.buf[2] != 8 {
		return ErrHeader
	}
	flg := z.buf[3]
	crc := crc32.ChecksumIEEE(z.buf[:10])
	if flg&flagExtra != 0 {
		if _, err := io.ReadFull(z.br, z.buf[:2]); err != nil {
			return noEOF(err)
		}
		crc = crc32.Update(crc, crc32.IEEETable, z.buf[:2])
		n := int(binary.LittleEndian.Uint16(z.buf[:2]))
		for n > 0 {
			b, err := z.br.Peek(min(n, z.br.Size()))
			if err != nil && len(b) == 0 {
				return noEOF(err)
			}
			crc = crc32.Update(crc, crc32.IEEETable, b)
			z.br.Discard(len(b))
			n -= len(b)
		}
	}
	for _, f := range [...]byte{flagName, flagComment} {
		if flg&f == 0 {
			continue
		}
		var err error
		if crc, err = z.skipString(crc); err != nil {
			return err
		}
	}
	if flg&flagHdrCRC != 0 {
		if _, err := io.ReadFull(z.br, z.buf[:2]); err != nil {
			return noEOF(err)
		}
		if binary.LittleEndian.Uint16(z.buf[:2]) != uint16(crc) {
			return ErrHeader
		}
	}
	if z.d == nil {
		z.d = NewReader(z.br)
	} else {
		z.d.Reset(z.br)
	}
	return nil
}

// skipString reads a zero-terminated header string into the header CRC.
func (z *GzipReader) skipString(crc uint32) (uint32, error) {
	for i := 0; ; i++ {
		if i >= maxHeaderString {
			return crc, ErrHeader
		}
		b, err := z.br.ReadByte()
		if err != nil {
			return crc, noEOF(err)
		}
		crc = crc32.Update(crc, crc32.IEEETable, []byte{b})
		if b == 0 {
			return crc, nil
		}
	}
}

// Read implements io.Reader.
func (z *GzipReader) Read(p []byte) (n int, err error) {
	if z.err != nil {
		return 0, z.err
	}
	for n == 0 {
		n, z.err = z.d.Read(p)
		z.crc = crc32.Update(z.crc, crc32.IEEETable, p[:n])
		z.size += uint32(n)
		if z.err != io.EOF {
			return n, z.err
		}
		if _, err := io.ReadFull(z.br, z.buf[:8]); err != nil {
			z.err = noEOF(err)
			return n, z.err
		}
		if binary.LittleEndian.Uint32(z.buf[:4]) != z.crc || binary.LittleEndian.Uint32(z.buf[4:8]) != z.size {
			z.err = ErrChecksum
			return n, z.err
		}
		z.crc, z.size = 0, 0
		if z.err = z.header(); z.err != nil {
			return n, z.err
		}
	}
	return n, nil
}
