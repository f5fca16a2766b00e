package gobinary

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The Go linker writes the build info blob at the start of the
// .go.buildinfo section, 16-byte aligned, in every object format: a 14-byte
// magic, the pointer size, a flags byte, padding to 32 bytes, then (Go
// 1.18+, flag 2) the toolchain version and the module info as
// varint-prefixed strings.
var buildInfoMagic = []byte("\xff Go buildinf:")

// runtimeMarker is a function name every Go program's pclntab holds,
// stripped or not: it recognises a Go binary whose build info is gone.
var runtimeMarker = []byte("runtime.goexit\x00")

const (
	chunkSize = 256 << 10
	// maxBuildInfo bounds what is captured after the magic; the largest
	// real module lists are a few hundred KB.
	maxBuildInfo = 1 << 20
	// maxHeaders bounds the program and section header tables.
	maxHeaders = 1 << 20
)

// scanResult is what one streaming read of an executable found.
type scanResult struct {
	elf       *elfInfo
	buildInfo []byte // from the magic on, possibly cut short
	goRuntime bool
	size      int64
}

type elfInfo struct {
	class   elf.Class
	order   binary.ByteOrder
	typ     elf.Type
	machine elf.Machine
	interp  bool
	symtab  bool
	// headersOK is false when the program or section headers could not be
	// read (truncated or absurd); then linking facts are unknown.
	phOK, shOK bool
}

// capture copies the bytes of [off, off+len(buf)) as they stream past.
type capture struct {
	off  int64
	buf  []byte
	have int
}

func (c *capture) feed(base int64, chunk []byte) {
	if c == nil || c.have == len(c.buf) {
		return
	}
	next := c.off + int64(c.have) // captures fill front to back
	end := min(c.off+int64(len(c.buf)), base+int64(len(chunk)))
	if next < base || next >= end {
		return
	}
	c.have += copy(c.buf[c.have:], chunk[next-base:end-base])
}

func (c *capture) done() bool { return c != nil && c.have == len(c.buf) }

// scan reads an executable once, front to back, keeping only what it
// needs: the ELF header and its program and section header tables, the
// build info blob, and whether the Go runtime is there. Memory stays at a
// chunk plus those pieces, whatever the binary's size.
func scan(r io.Reader) (*scanResult, error) {
	res := &scanResult{}
	buf := make([]byte, chunkSize+64)
	carry := 0 // bytes kept from the previous chunk, to find markers across chunk edges
	var base int64
	var head [64]byte
	headN := 0
	var ph, sh, bi *capture
	searchFrom := int64(0) // first absolute offset not yet searched for the magic
	for {
		n, err := io.ReadFull(r, buf[carry:carry+chunkSize])
		if n > 0 {
			chunk := buf[:carry+n]
			chunkBase := base - int64(carry)
			newData := buf[carry : carry+n]
			// The ELF header, then the tables it points to.
			if headN < len(head) {
				headN += copy(head[headN:], newData)
				if headN == len(head) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					res.elf, ph, sh = parseELFHeader(head[:headN])
				}
			}
			ph.feed(chunkBase, chunk)
			sh.feed(chunkBase, chunk)
			if bi == nil {
				bi = findMagic(chunk, chunkBase, &searchFrom)
			}
			bi.feed(chunkBase, chunk)
			if !res.goRuntime && bytes.Contains(chunk, runtimeMarker) {
				res.goRuntime = true
			}
			base += int64(n)
			// Keep the tail for markers that straddle the edge.
			keep := min(len(runtimeMarker), len(chunk))
			copy(buf, chunk[len(chunk)-keep:])
			carry = keep
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	res.size = base
	if bi != nil {
		res.buildInfo = bi.buf[:bi.have]
	}
	if e := res.elf; e != nil {
		e.phOK = ph.done()
		e.shOK = sh.done()
		if e.phOK {
			e.interp = hasInterp(e, ph.buf)
		}
		if e.shOK {
			e.symtab = hasSymtab(e, sh.buf)
		}
	}
	return res, nil
}

// findMagic looks for the build info magic at a 16-byte aligned offset at
// or after *from, and returns a capture of the blob when it is found.
//
// Only aligned offsets can hold it, so it looks at every sixteenth byte
// rather than running a substring search: the magic starts with 0xff, a
// byte common in machine code, and a search stopped at each one took a
// second of CPU per GB of binaries.
func findMagic(chunk []byte, chunkBase int64, from *int64) *capture {
	// *from is aligned: it starts at 0 and moves in steps of 16, and it is
	// never behind chunkBase (a chunk repeats fewer of the last one's bytes
	// than the magic is long).
	i := max(*from-chunkBase, 0)
	for ; i+int64(len(buildInfoMagic)) <= int64(len(chunk)); i += 16 {
		if chunk[i] == buildInfoMagic[0] && bytes.HasPrefix(chunk[i:], buildInfoMagic) {
			return &capture{off: chunkBase + i, buf: make([]byte, maxBuildInfo)}
		}
	}
	// Aligned offsets from i on were not looked at in full: the next
	// chunk starts with this one's tail.
	*from = max(*from, chunkBase+i)
	return nil
}

// parseELFHeader reads the ELF header and sets up captures of the program
// and section header tables. It returns nil for non-ELF files.
func parseELFHeader(h []byte) (*elfInfo, *capture, *capture) {
	if len(h) < 52 || !bytes.HasPrefix(h, []byte(elf.ELFMAG)) {
		return nil, nil, nil
	}
	e := &elfInfo{class: elf.Class(h[elf.EI_CLASS])}
	switch elf.Data(h[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		e.order = binary.LittleEndian
	case elf.ELFDATA2MSB:
		e.order = binary.BigEndian
	default:
		return nil, nil, nil
	}
	o := e.order
	e.typ = elf.Type(o.Uint16(h[16:]))
	e.machine = elf.Machine(o.Uint16(h[18:]))
	var phoff, shoff uint64
	var phentsize, phnum, shentsize, shnum uint16
	switch e.class {
	case elf.ELFCLASS64:
		if len(h) < 64 {
			return e, nil, nil
		}
		phoff, shoff = o.Uint64(h[32:]), o.Uint64(h[40:])
		phentsize, phnum = o.Uint16(h[54:]), o.Uint16(h[56:])
		shentsize, shnum = o.Uint16(h[58:]), o.Uint16(h[60:])
	case elf.ELFCLASS32:
		phoff, shoff = uint64(o.Uint32(h[28:])), uint64(o.Uint32(h[32:]))
		phentsize, phnum = o.Uint16(h[42:]), o.Uint16(h[44:])
		shentsize, shnum = o.Uint16(h[46:]), o.Uint16(h[48:])
	default:
		return nil, nil, nil
	}
	table := func(off uint64, entsize, num uint16) *capture {
		size := uint64(entsize) * uint64(num)
		if off == 0 || size == 0 || size > maxHeaders || off > 1<<62 {
			return nil
		}
		return &capture{off: int64(off), buf: make([]byte, size)}
	}
	return e, table(phoff, phentsize, phnum), table(shoff, shentsize, shnum)
}

func (e *elfInfo) entSize(phdr bool) int {
	switch {
	case e.class == elf.ELFCLASS64 && phdr:
		return 56
	case e.class == elf.ELFCLASS64:
		return 64
	case phdr:
		return 32
	}
	return 40
}

// hasInterp reports a PT_INTERP program header: a dynamically linked
// executable names its loader there.
func hasInterp(e *elfInfo, tab []byte) bool {
	sz := e.entSize(true)
	for i := 0; i+sz <= len(tab); i += sz {
		if elf.ProgType(e.order.Uint32(tab[i:])) == elf.PT_INTERP {
			return true
		}
	}
	return false
}

// hasSymtab reports an SHT_SYMTAB section; `-s` and strip remove it.
func hasSymtab(e *elfInfo, tab []byte) bool {
	sz := e.entSize(false)
	for i := 0; i+sz <= len(tab); i += sz {
		if elf.SectionType(e.order.Uint32(tab[i+4:])) == elf.SHT_SYMTAB {
			return true
		}
	}
	return false
}

// errNoInline is returned for build info in the layout before Go 1.18,
// which points into the data segment instead of holding the strings.
var errNoInline = errors.New("build info in the pre-Go 1.18 layout (pointers, not inline strings) is not read")

// decodeBuildInfo returns the toolchain version and the module info text
// of a captured blob.
func decodeBuildInfo(b []byte) (version, modinfo string, err error) {
	if len(b) < 32 {
		return "", "", fmt.Errorf("build info cut short at %d bytes", len(b))
	}
	if b[15]&2 == 0 {
		return "", "", errNoInline
	}
	rest := b[32:]
	read := func() (string, error) {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return "", fmt.Errorf("build info string cut short or too long")
		}
		s := string(rest[k : k+int(n)])
		rest = rest[k+int(n):]
		return s, nil
	}
	if version, err = read(); err != nil {
		return "", "", err
	}
	// A real toolchain version is printable ("go1.26.8", "devel go1.27-abc
	// Tue ..."); control characters would inject lines into reports.
	if !utf8.ValidString(version) || strings.IndexFunc(version, unicode.IsControl) >= 0 {
		return "", "", fmt.Errorf("build info: toolchain version %q is not printable", version)
	}
	if modinfo, err = read(); err != nil {
		return version, "", err
	}
	// The module info is framed by 16-byte sentinels.
	if len(modinfo) >= 33 && modinfo[len(modinfo)-17] == '\n' {
		modinfo = modinfo[16 : len(modinfo)-16]
	} else {
		modinfo = ""
	}
	return version, modinfo, nil
}
