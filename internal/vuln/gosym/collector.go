package gosym

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"sort"
)

// A Collector captures, while an executable streams past once, only the byte
// ranges that Read would look at, and builds the same Table from them:
//
//   - the headers (ELF file and program headers, Mach-O load commands, PE
//     section table), from which it plans the rest;
//   - every read-only data region in full (ELF: the R segment holding
//     .rodata, .gopclntab and go:func.*; Mach-O: the __TEXT data sections;
//     PE: .rdata);
//   - of the writable data, a window of a few hundred bytes at each
//     occurrence of the build information's magic (16-byte aligned) and at
//     each pointer-aligned word that holds the function table header's
//     address (moduledata candidates). The header is located as soon as the read-only region
//     holding it has streamed past, which in Go's layouts is before the
//     writable data; writable bytes that stream past before that are kept
//     whole.
//
// Executable code is never kept. For a net/http server that is about half of
// the file. The total kept is bounded by maxBytes; past it the Collector
// drops what it kept and Table reports an error.
//
// Write never fails, so a Collector can sit in an io.MultiWriter beside other
// consumers of the same stream; errors are reported by Table.
type Collector struct {
	max  int64
	pos  int64 // bytes written so far
	kept int64
	err  error

	head []byte  // the file's first bytes, until the headers parse
	l    *layout // nil until the headers parse
	src  sparseSource

	bounds []int64 // sorted offsets where some region or kept range starts or ends
	bi     int     // next bound at or after pos

	h       *pcHeader // the function table header, once located
	pat     []byte    // h.addr as a pointer-sized word in the file's byte order
	checked int       // read-only regions (in file order) already searched for the header

	carry    []byte // last bytes of the writable region being scanned
	carryEnd int64  // file offset just past carry
	windows  []span // moduledata windows to keep, by start offset
}

// NewCollector returns a Collector that keeps at most maxBytes bytes.
func NewCollector(maxBytes int64) *Collector {
	return &Collector{max: maxBytes}
}

const maxPattern = len(buildInfoMagic) // the longest pattern: longer than a pointer

// Write consumes the next bytes of the file. It always returns len(p), nil.
func (c *Collector) Write(p []byte) (int, error) {
	n := len(p)
	if c.err == nil {
		c.write(p)
	}
	c.pos += int64(n)
	return n, nil
}

func (c *Collector) fail(err error) {
	c.err = err
	c.head, c.src.chunks, c.windows = nil, nil, nil
}

func (c *Collector) write(p []byte) {
	if c.l == nil {
		// Buffer the front of the file until the headers can be parsed.
		take := min(len(p), maxHeaderBytes-len(c.head))
		c.head = append(c.head, p[:take]...)
		l, err := parseHeaders(c.head, math.MaxInt64)
		var short *errShort
		switch {
		case errors.As(err, &short):
			if len(c.head) >= maxHeaderBytes {
				c.fail(fmt.Errorf("%w: headers larger than %d bytes", ErrFormat, maxHeaderBytes))
			}
			return
		case err != nil:
			c.fail(err)
			return
		}
		c.plan(l)
		// Replay the buffered bytes through the plan.
		head := c.head
		c.head = nil
		c.process(0, head)
		if c.err == nil && take < len(p) {
			c.process(int64(len(head)), p[take:])
		}
		return
	}
	c.process(c.pos, p)
}

func (c *Collector) plan(l *layout) {
	c.l = l
	b := []int64{0, l.headerEnd}
	for _, r := range l.regions {
		b = append(b, r.off, r.off+r.filesz)
	}
	sort.Slice(b, func(i, j int) bool { return b[i] < b[j] })
	c.bounds = b[:0]
	for i, x := range b {
		if i == 0 || x != b[i-1] {
			c.bounds = append(c.bounds, x)
		}
	}
}

// process handles the bytes p at file offset off, split at the bounds so that
// each piece lies wholly inside or outside every region.
func (c *Collector) process(off int64, p []byte) {
	for len(p) > 0 && c.err == nil {
		for c.bi < len(c.bounds) && c.bounds[c.bi] <= off {
			c.bi++
		}
		n := int64(len(p))
		if c.bi < len(c.bounds) {
			n = min(n, c.bounds[c.bi]-off)
		}
		c.piece(off, p[:n])
		off += n
		p = p[n:]
		c.regionsDone(off)
	}
}

// piece handles bytes that lie wholly inside or outside each region.
func (c *Collector) piece(off int64, p []byte) {
	keepAll := off < c.l.headerEnd
	writable := false
	for _, r := range c.l.regions {
		if off < r.off || off >= r.off+r.filesz {
			continue
		}
		switch r.kind {
		case kindReadOnly:
			keepAll = true
		case kindWritable:
			writable = true
			if c.h == nil {
				keepAll = true
			}
			c.scan(r, off, p)
		}
	}
	if !writable {
		c.carry = c.carry[:0]
	}
	if keepAll {
		c.keep(off, p)
		return
	}
	// Keep the parts inside moduledata windows.
	end := off + int64(len(p))
	w := c.windows[:0]
	for _, s := range c.windows {
		if s.off+s.n <= off {
			continue // done
		}
		w = append(w, s)
		lo, hi := max(s.off, off, c.keptEnd()), min(s.off+s.n, end)
		if lo < hi {
			c.keep(lo, p[lo-off:hi-off])
		}
	}
	c.windows = w
}

func (c *Collector) keptEnd() int64 {
	if n := len(c.src.chunks); n > 0 {
		last := c.src.chunks[n-1]
		return last.off + int64(len(last.data))
	}
	return 0
}

func (c *Collector) keep(off int64, p []byte) {
	if len(p) == 0 {
		return
	}
	if c.kept += int64(len(p)); c.kept > c.max {
		c.fail(fmt.Errorf("gosym: Collector: the function table needs more than %d bytes", c.max))
		return
	}
	// Reserve room for a whole read-only region up front, so that it is not
	// copied as it grows.
	hint := 0
	for _, r := range c.l.regions {
		if r.kind == kindReadOnly && r.off == off && r.filesz <= c.max-c.kept+int64(len(p)) {
			hint = int(r.filesz)
		}
	}
	c.src.add(off, p, hint)
}

// A pattern is a byte string whose aligned occurrences in the writable data
// Read looks at, with the number of bytes from there that it reads.
type pattern struct {
	b     []byte
	align uint64
	win   int64
}

func (c *Collector) patterns() []pattern {
	ps := []pattern{{[]byte(buildInfoMagic), 16, buildInfoWindow}}
	if c.h != nil {
		ps = append(ps, pattern{c.pat, uint64(len(c.pat)), mdWords * int64(len(c.pat))})
	}
	return ps
}

// scan looks for the patterns in the writable bytes p at off, part of r.
func (c *Collector) scan(r region, off int64, p []byte) {
	aligned := func(pos int64, a uint64) bool { return pos >= r.off && (r.vaddr+uint64(pos-r.off))%a == 0 }
	contiguous := len(c.carry) > 0 && c.carryEnd == off
	for _, pat := range c.patterns() {
		// An occurrence straddling the previous piece and this one.
		if contiguous {
			tmp := append(append([]byte(nil), c.carry...), p[:min(len(p), len(pat.b)-1)]...)
			base := off - int64(len(c.carry))
			for i := 0; ; {
				j := bytes.Index(tmp[i:], pat.b)
				if j < 0 {
					break
				}
				pos := base + int64(i+j)
				i += j + 1
				if pos < off && aligned(pos, pat.align) {
					c.window(r, pos, pat.win)
					// Its first bytes went past in the previous piece.
					if ke := c.keptEnd(); ke < off {
						from := max(pos, ke)
						c.keep(from, c.carry[from-base:])
					}
				}
			}
		}
		for i := 0; ; {
			j := bytes.Index(p[i:], pat.b)
			if j < 0 {
				break
			}
			pos := off + int64(i+j)
			i += j + 1
			if aligned(pos, pat.align) {
				c.window(r, pos, pat.win)
			}
		}
	}
	// Remember the tail for the next piece.
	if !contiguous {
		c.carry = c.carry[:0]
	}
	c.carry = append(c.carry, p[len(p)-min(len(p), maxPattern-1):]...)
	if len(c.carry) > maxPattern-1 {
		c.carry = c.carry[len(c.carry)-(maxPattern-1):]
	}
	c.carryEnd = off + int64(len(p))
}

// window arranges to keep the n bytes at pos (bytes before the current
// position have been kept already if they were needed).
func (c *Collector) window(r region, pos, n int64) {
	n = min(n, r.off+r.filesz-pos)
	for i := range c.windows {
		w := &c.windows[i]
		if pos >= w.off && pos <= w.off+w.n {
			w.n = max(w.n, pos+n-w.off)
			return
		}
	}
	c.windows = append(c.windows, span{pos, n})
	sort.Slice(c.windows, func(i, j int) bool { return c.windows[i].off < c.windows[j].off })
}

// regionsDone is called at each bound: once a read-only region has streamed
// past whole, search it for the function table header.
func (c *Collector) regionsDone(off int64) {
	if c.h != nil || c.err != nil {
		return
	}
	var ro []region
	for _, r := range c.l.regions {
		if r.kind == kindReadOnly {
			ro = append(ro, r)
		}
	}
	for c.checked < len(ro) && ro[c.checked].off+ro[c.checked].filesz <= off {
		r := ro[c.checked]
		c.checked++
		b, ok := c.src.slice(r.off, r.filesz)
		if !ok {
			continue
		}
		h, err := findPCHeader(&memory{regions: []region{r}, data: [][]byte{b}})
		if err != nil {
			continue
		}
		c.h = h
		c.pat = make([]byte, h.ptrSize)
		if h.ptrSize == 4 {
			h.order.PutUint32(c.pat, uint32(h.addr))
		} else {
			h.order.PutUint64(c.pat, h.addr)
		}
		// Writable bytes that went past before now were kept whole; a
		// candidate among them may reach beyond them.
		for _, w := range c.l.regions {
			if w.kind != kindWritable {
				continue
			}
			for _, sp := range c.src.avail(w.off, w.filesz) {
				b, _ := c.src.slice(sp.off, sp.n)
				for i := 0; ; {
					j := bytes.Index(b[i:], c.pat)
					if j < 0 {
						break
					}
					pos := sp.off + int64(i+j)
					i += j + 1
					if (w.vaddr+uint64(pos-w.off))%uint64(h.ptrSize) == 0 {
						c.window(w, pos, mdWords*int64(h.ptrSize))
					}
				}
			}
		}
		return
	}
}

// Table builds the table from the bytes kept; call it after the last Write.
func (c *Collector) Table() (*Table, error) {
	if c.err != nil {
		return nil, c.err
	}
	if c.l == nil {
		if _, err := parseHeaders(c.head, c.pos); err != nil {
			var short *errShort
			if errors.As(err, &short) {
				return nil, fmt.Errorf("%w: file ends inside its headers", ErrFormat)
			}
			return nil, err
		}
		return nil, ErrFormat
	}
	// Parse the headers again, now that the file's size is known, so that
	// they are checked exactly as Read checks them.
	hdr, ok := c.src.slice(0, c.l.headerEnd)
	if !ok {
		return nil, fmt.Errorf("%w: file ends inside its headers", ErrFormat)
	}
	l, err := parseHeaders(hdr, c.pos)
	if err != nil {
		return nil, err
	}
	return build(&c.src, l)
}
