package gosym

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// This file reads just enough of an executable's headers (ELF program headers,
// Mach-O segment and section load commands, PE section table) to know which
// file ranges are mapped at which virtual addresses. Everything after that is
// format-independent. The parsers are deliberately small and work on a prefix
// of the file, so that the streaming Collector can use them on the bytes it has
// seen so far; they never look at section names, symbol tables or anything else
// that "go build -ldflags=-s -w" removes, so stripped and unstripped builds take
// exactly the same path.

// regionKind says what a mapped region may hold.
type regionKind uint8

const (
	kindText     regionKind = iota // executable code: never read
	kindReadOnly                   // read-only data: .gopclntab, go:func.*, rodata
	kindWritable                   // writable data: moduledata, buildinfo
)

// A region is a file-backed part of the memory image.
type region struct {
	vaddr  uint64
	off    int64 // file offset
	filesz int64 // bytes present in the file (memory beyond that is zero-filled)
	kind   regionKind
}

func (r region) contains(addr uint64) bool {
	return addr >= r.vaddr && addr-r.vaddr < uint64(r.filesz)
}

// layout is what the headers say about an executable.
type layout struct {
	format    string // "elf", "macho", "pe"
	order     binary.ByteOrder
	ptrSize   int
	regions   []region // sorted by file offset
	headerEnd int64    // the headers lie in [0, headerEnd)
}

// errShort is returned by parseHeaders when the prefix given to it is too
// short; need is the prefix length that will do.
type errShort struct{ need int64 }

func (e *errShort) Error() string { return fmt.Sprintf("need %d header bytes", e.need) }

var (
	// ErrFormat reports input that is not an executable this package understands.
	ErrFormat = errors.New("gosym: not an ELF, Mach-O or PE executable")
	// ErrNotGo reports an executable without a Go function table of a supported version.
	ErrNotGo = errors.New("gosym: no Go 1.18+ function table")
)

const (
	maxHeaderBytes = 4 << 20 // headers larger than this are rejected
	maxRegions     = 256
)

// parseHeaders parses the headers found in the file prefix b of a file of the
// given size. It returns *errShort if b is too short to hold them.
func parseHeaders(b []byte, size int64) (*layout, error) {
	if len(b) < 4 {
		if size < 4 {
			return nil, ErrFormat
		}
		return nil, &errShort{4}
	}
	var (
		l   *layout
		err error
	)
	switch {
	case string(b[:4]) == "\x7fELF":
		l, err = parseELF(b, size)
	case b[0] == 'M' && b[1] == 'Z':
		l, err = parsePE(b, size)
	default:
		switch binary.LittleEndian.Uint32(b) {
		case 0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe:
			l, err = parseMachO(b, size)
		default:
			return nil, ErrFormat
		}
	}
	if err != nil {
		return nil, err
	}
	if len(l.regions) > maxRegions {
		return nil, fmt.Errorf("%w: %d segments", ErrFormat, len(l.regions))
	}
	sort.SliceStable(l.regions, func(i, j int) bool { return l.regions[i].off < l.regions[j].off })
	return l, nil
}

// need returns an *errShort for n bytes, or ErrFormat if n is beyond what any
// sane header needs or beyond the file.
func need(n uint64, size int64) error {
	if n > maxHeaderBytes || n > uint64(size) {
		return fmt.Errorf("%w: headers beyond the file", ErrFormat)
	}
	return &errShort{int64(n)}
}

// addRegion appends a region after checking that its file range is inside the file.
func (l *layout) addRegion(vaddr, off, filesz uint64, kind regionKind, size int64) error {
	if filesz == 0 {
		return nil
	}
	if off > uint64(size) || filesz > uint64(size)-off {
		return fmt.Errorf("%w: segment at file offset %#x, size %#x, beyond the file (%d bytes)", ErrFormat, off, filesz, size)
	}
	if vaddr+filesz < vaddr {
		return fmt.Errorf("%w: segment address overflow", ErrFormat)
	}
	l.regions = append(l.regions, region{vaddr: vaddr, off: int64(off), filesz: int64(filesz), kind: kind})
	return nil
}

func parseELF(b []byte, size int64) (*layout, error) {
	if len(b) < 52 {
		return nil, need(64, size)
	}
	l := &layout{format: "elf"}
	switch b[5] {
	case 1:
		l.order = binary.LittleEndian
	case 2:
		l.order = binary.BigEndian
	default:
		return nil, fmt.Errorf("%w: bad ELF data encoding", ErrFormat)
	}
	o := l.order
	var phoff, phentsize, phnum uint64
	switch b[4] {
	case 1:
		l.ptrSize = 4
		phoff = uint64(o.Uint32(b[0x1c:]))
		phentsize = uint64(o.Uint16(b[0x2a:]))
		phnum = uint64(o.Uint16(b[0x2c:]))
		if phentsize < 32 && phnum > 0 {
			return nil, fmt.Errorf("%w: bad ELF program header size", ErrFormat)
		}
	case 2:
		if len(b) < 64 {
			return nil, need(64, size)
		}
		l.ptrSize = 8
		phoff = o.Uint64(b[0x20:])
		phentsize = uint64(o.Uint16(b[0x36:]))
		phnum = uint64(o.Uint16(b[0x38:]))
		if phentsize < 56 && phnum > 0 {
			return nil, fmt.Errorf("%w: bad ELF program header size", ErrFormat)
		}
	default:
		return nil, fmt.Errorf("%w: bad ELF class", ErrFormat)
	}
	if phnum == 0 || phnum == 0xffff {
		return nil, fmt.Errorf("%w: ELF file without program headers", ErrFormat)
	}
	end := phoff + phnum*phentsize
	if phoff > maxHeaderBytes || end > maxHeaderBytes {
		return nil, fmt.Errorf("%w: ELF program headers beyond %d bytes", ErrFormat, maxHeaderBytes)
	}
	if end > uint64(len(b)) {
		return nil, need(end, size)
	}
	l.headerEnd = int64(end)
	var relro [][2]uint64
	for i := uint64(0); i < phnum; i++ {
		p := b[phoff+i*phentsize:]
		var typ, flags uint32
		var off, vaddr, filesz uint64
		if l.ptrSize == 4 {
			typ = o.Uint32(p)
			off = uint64(o.Uint32(p[4:]))
			vaddr = uint64(o.Uint32(p[8:]))
			filesz = uint64(o.Uint32(p[16:]))
			flags = o.Uint32(p[24:])
		} else {
			typ = o.Uint32(p)
			flags = o.Uint32(p[4:])
			off = o.Uint64(p[8:])
			vaddr = o.Uint64(p[16:])
			filesz = o.Uint64(p[32:])
		}
		const (
			ptLoad     = 1
			ptGNURelro = 0x6474e552
			pfX        = 1
			pfW        = 2
		)
		switch typ {
		case ptLoad:
			kind := kindReadOnly
			switch {
			case flags&pfX != 0:
				kind = kindText
			case flags&pfW != 0:
				kind = kindWritable
			}
			if err := l.addRegion(vaddr, off, filesz, kind, size); err != nil {
				return nil, err
			}
		case ptGNURelro:
			relro = append(relro, [2]uint64{vaddr, vaddr + filesz})
		}
	}
	for _, rr := range relro {
		l.splitRelro(rr[0], rr[1])
	}
	return l, nil
}

// splitRelro marks the part [lo, hi) of the writable regions read-only: the
// dynamic loader makes it so once it has applied relocations (PT_GNU_RELRO).
// Externally linked PIE binaries keep the function table there, in
// .data.rel.ro, up to Go 1.25.
func (l *layout) splitRelro(lo, hi uint64) {
	var out []region
	for _, r := range l.regions {
		end := r.vaddr + uint64(r.filesz)
		if r.kind != kindWritable || hi <= r.vaddr || lo >= end || hi <= lo {
			out = append(out, r)
			continue
		}
		a, b := max(lo, r.vaddr), min(hi, end)
		piece := func(from, to uint64, kind regionKind) {
			if from < to {
				out = append(out, region{vaddr: from, off: r.off + int64(from-r.vaddr), filesz: int64(to - from), kind: kind})
			}
		}
		piece(r.vaddr, a, kindWritable)
		piece(a, b, kindReadOnly)
		piece(b, end, kindWritable)
	}
	l.regions = out
}

func parseMachO(b []byte, size int64) (*layout, error) {
	l := &layout{format: "macho"}
	var hdrSize uint64
	switch binary.LittleEndian.Uint32(b) {
	case 0xfeedface:
		l.order, l.ptrSize, hdrSize = binary.LittleEndian, 4, 28
	case 0xfeedfacf:
		l.order, l.ptrSize, hdrSize = binary.LittleEndian, 8, 32
	case 0xcefaedfe:
		l.order, l.ptrSize, hdrSize = binary.BigEndian, 4, 28
	case 0xcffaedfe:
		l.order, l.ptrSize, hdrSize = binary.BigEndian, 8, 32
	}
	if uint64(len(b)) < hdrSize {
		return nil, need(hdrSize, size)
	}
	o := l.order
	ncmds := uint64(o.Uint32(b[16:]))
	sizeofcmds := uint64(o.Uint32(b[20:]))
	end := hdrSize + sizeofcmds
	if end > maxHeaderBytes {
		return nil, fmt.Errorf("%w: Mach-O load commands beyond %d bytes", ErrFormat, maxHeaderBytes)
	}
	if end > uint64(len(b)) {
		return nil, need(end, size)
	}
	l.headerEnd = int64(end)
	cmds := b[hdrSize:end]
	for i := uint64(0); i < ncmds; i++ {
		if len(cmds) < 8 {
			return nil, fmt.Errorf("%w: truncated Mach-O load command", ErrFormat)
		}
		cmd, cmdsize := o.Uint32(cmds), uint64(o.Uint32(cmds[4:]))
		if cmdsize < 8 || cmdsize > uint64(len(cmds)) {
			return nil, fmt.Errorf("%w: bad Mach-O load command size", ErrFormat)
		}
		c := cmds[:cmdsize]
		cmds = cmds[cmdsize:]
		const (
			lcSegment   = 0x1
			lcSegment64 = 0x19
		)
		var segHdr, sectSize uint64
		switch {
		case cmd == lcSegment && l.ptrSize == 4:
			segHdr, sectSize = 56, 68
		case cmd == lcSegment64 && l.ptrSize == 8:
			segHdr, sectSize = 72, 80
		default:
			continue
		}
		if uint64(len(c)) < segHdr {
			return nil, fmt.Errorf("%w: truncated Mach-O segment command", ErrFormat)
		}
		if cstr(c[8:24]) == "__DWARF" {
			continue // debug information: not mapped, not needed
		}
		var initprot, nsects uint32
		if l.ptrSize == 4 {
			initprot, nsects = o.Uint32(c[44:]), o.Uint32(c[48:])
		} else {
			initprot, nsects = o.Uint32(c[60:]), o.Uint32(c[64:])
		}
		if uint64(nsects) > (uint64(len(c))-segHdr)/sectSize {
			return nil, fmt.Errorf("%w: Mach-O segment with more sections than fit", ErrFormat)
		}
		for j := uint64(0); j < uint64(nsects); j++ {
			s := c[segHdr+j*sectSize:]
			var addr, sz uint64
			var off, flags uint32
			if l.ptrSize == 4 {
				addr, sz = uint64(o.Uint32(s[32:])), uint64(o.Uint32(s[36:]))
				off, flags = o.Uint32(s[40:]), o.Uint32(s[56:])
			} else {
				addr, sz = o.Uint64(s[32:]), o.Uint64(s[40:])
				off, flags = o.Uint32(s[48:]), o.Uint32(s[64:])
			}
			const (
				attrPureInstructions = 0x80000000
				attrSomeInstructions = 0x400
				vmProtWrite          = 2
			)
			switch flags & 0xff {
			case 0x1, 0xc, 0x12: // S_ZEROFILL, S_GB_ZEROFILL, S_THREAD_LOCAL_ZEROFILL
				continue
			}
			kind := kindReadOnly
			switch {
			case flags&(attrPureInstructions|attrSomeInstructions) != 0:
				kind = kindText
			case initprot&vmProtWrite != 0:
				kind = kindWritable
			}
			if err := l.addRegion(addr, uint64(off), sz, kind, size); err != nil {
				return nil, err
			}
		}
	}
	return l, nil
}

func parsePE(b []byte, size int64) (*layout, error) {
	if len(b) < 0x40 {
		return nil, need(0x40, size)
	}
	l := &layout{format: "pe", order: binary.LittleEndian}
	o := l.order
	peoff := uint64(o.Uint32(b[0x3c:]))
	if peoff > maxHeaderBytes {
		return nil, fmt.Errorf("%w: PE header beyond %d bytes", ErrFormat, maxHeaderBytes)
	}
	if uint64(len(b)) < peoff+24 {
		return nil, need(peoff+24, size)
	}
	if string(b[peoff:peoff+4]) != "PE\x00\x00" {
		return nil, fmt.Errorf("%w: no PE signature", ErrFormat)
	}
	coff := b[peoff+4:]
	nsect := uint64(o.Uint16(coff[2:]))
	optSize := uint64(o.Uint16(coff[16:]))
	opt := peoff + 24
	sects := opt + optSize
	end := sects + nsect*40
	if end > maxHeaderBytes {
		return nil, fmt.Errorf("%w: PE section table beyond %d bytes", ErrFormat, maxHeaderBytes)
	}
	if uint64(len(b)) < end {
		return nil, need(end, size)
	}
	l.headerEnd = int64(end)
	if optSize < 2 {
		return nil, fmt.Errorf("%w: PE file without optional header", ErrFormat)
	}
	var imageBase uint64
	switch o.Uint16(b[opt:]) {
	case 0x10b:
		if optSize < 32 {
			return nil, fmt.Errorf("%w: short PE optional header", ErrFormat)
		}
		l.ptrSize, imageBase = 4, uint64(o.Uint32(b[opt+28:]))
	case 0x20b:
		if optSize < 32 {
			return nil, fmt.Errorf("%w: short PE optional header", ErrFormat)
		}
		l.ptrSize, imageBase = 8, o.Uint64(b[opt+24:])
	default:
		return nil, fmt.Errorf("%w: unknown PE optional header magic", ErrFormat)
	}
	for i := uint64(0); i < nsect; i++ {
		s := b[sects+i*40:]
		vsize := uint64(o.Uint32(s[8:]))
		va := uint64(o.Uint32(s[12:]))
		rawSize := uint64(o.Uint32(s[16:]))
		rawOff := uint64(o.Uint32(s[20:]))
		chars := o.Uint32(s[36:])
		const (
			scnCode        = 0x20
			scnDiscardable = 0x02000000
			scnExecute     = 0x20000000
			scnWrite       = 0x80000000
		)
		n := rawSize
		if vsize != 0 && vsize < n {
			n = vsize
		}
		if rawOff == 0 {
			continue // uninitialized data (.bss)
		}
		if name := cstr(s[:8]); chars&scnDiscardable != 0 || strings.HasPrefix(name, ".debug") || strings.HasPrefix(name, ".zdebug") {
			continue // debug information: not needed
		}
		kind := kindReadOnly
		switch {
		case chars&(scnExecute|scnCode) != 0:
			kind = kindText
		case chars&scnWrite != 0:
			kind = kindWritable
		}
		if err := l.addRegion(imageBase+va, rawOff, n, kind, size); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// readHeaders reads and parses the headers of the file behind r.
func readHeaders(r io.ReaderAt, size int64) (*layout, error) {
	n := min(size, 64<<10)
	for {
		if n < 0 {
			return nil, ErrFormat
		}
		b := make([]byte, n)
		if m, err := r.ReadAt(b, 0); m < len(b) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("gosym: reading headers: %w", err)
		}
		l, err := parseHeaders(b, size)
		var short *errShort
		if errors.As(err, &short) {
			if short.need <= n {
				return nil, ErrFormat // cannot happen: guards against loops
			}
			n = short.need
			continue
		}
		return l, err
	}
}

// cstr returns the NUL-terminated string in a fixed-size name field.
func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
