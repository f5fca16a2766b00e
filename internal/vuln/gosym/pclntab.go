package gosym

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
)

// The Go function table, as the linker writes it (cmd/link/internal/ld/pcln.go)
// and the runtime reads it (runtime/symtab.go, runtime/symtabinl.go).
//
//	pcHeader      magic uint32, 0, 0, minLC uint8, ptrSize uint8,
//	              nfunc, nfiles, (unused), and five offsets from the header
//	              to funcnametab, cutab, filetab, pctab and pclntab, each ptrSize
//	funcnametab   NUL-terminated names of every function and every function
//	              inlined into one
//	pctab         pc-value tables: (zig-zag value delta, pc delta) varint pairs
//	pclntab       functab: nfunc {entryOff, funcOff uint32} pairs and an end
//	              entry, then the _func records funcOff points at
//
// A _func (Go 1.20+; Go 1.18 and 1.19 lack startLine) is
//
//	entryOff uint32, nameOff int32, args int32, deferreturn uint32,
//	pcsp, pcfile, pcln, npcdata, cuOffset uint32, startLine int32,
//	funcID, flag, _, nfuncdata uint8,
//	pcdata [npcdata]uint32, funcdata [nfuncdata]uint32
//
// pcdata[PCDATA_InlTreeIndex] is the offset in pctab of a table mapping each pc
// to an index into the function's inline tree (-1 outside inlined code); the
// tree has no count of its own, so its length is the largest index + 1.
// funcdata[FUNCDATA_InlTree] is the tree's offset from moduledata.gofunc, the
// go:func.* symbol (^0: none). The tree is an array of runtime.inlinedCall:
//
//	Go 1.20+     funcID uint8, _ [3]byte, nameOff int32, parentPc int32, startLine int32   (16 bytes)
//	Go 1.18-19   parent int16, funcID uint8, _ byte, file int32, line int32,
//	             nameOff int32, parentPc int32                                           (20 bytes)

const (
	magic118 = 0xfffffff0 // Go 1.18, 1.19
	magic120 = 0xfffffff1 // Go 1.20 and later
	magic116 = 0xfffffffa // Go 1.16, 1.17: unsupported
	magic12  = 0xfffffffb // Go 1.2 to 1.15: unsupported

	pcdataInlTreeIndex = 2
	funcdataInlTree    = 3
)

// Limits that keep hostile input from costing much time or memory.
const (
	maxImage        = 1 << 30 // read-only bytes loaded by Read
	maxInlineTree   = 1 << 16 // entries in one function's inline tree
	maxInlineTotal  = 1 << 24 // inline-tree entries decoded in all
	maxPCValueSteps = 1 << 20 // steps through one pc-value table
)

// memory holds the read-only regions of the image.
type memory struct {
	regions []region
	data    [][]byte
}

// at returns the bytes from addr to the end of the region holding addr.
func (m *memory) at(addr uint64) []byte {
	for i, r := range m.regions {
		if r.contains(addr) {
			return m.data[i][addr-r.vaddr:]
		}
	}
	return nil
}

// pcHeader is a located and checked function table header.
type pcHeader struct {
	addr    uint64 // virtual address
	data    []byte // from the header to the end of its region
	order   binary.ByteOrder
	ptrSize int
	minLC   int
	go120   bool
	nfunc   uint64
	// offsets from the header
	funcnameOff, cuOff, filetabOff, pctabOff, pclnOff uint64
}

// findPCHeader scans the read-only regions for the function table header: a
// pointer-aligned magic number followed by fields that agree with each other
// and with a well-formed first functab entry.
func findPCHeader(m *memory) (*pcHeader, error) {
	var old bool
	for i, r := range m.regions {
		b := m.data[i]
		// The header is pointer-aligned; 4 covers 32- and 64-bit targets.
		start := int((4 - r.vaddr%4) % 4)
		for j := start; j+8 <= len(b); j += 4 {
			if b[j] != 0xff && b[j+3] != 0xff {
				continue // fast path: neither byte order's magic can start here
			}
			le, be := binary.LittleEndian.Uint32(b[j:]), binary.BigEndian.Uint32(b[j:])
			var order binary.ByteOrder
			var magic uint32
			switch {
			case le == magic118 || le == magic120:
				order, magic = binary.LittleEndian, le
			case be == magic118 || be == magic120:
				order, magic = binary.BigEndian, be
			default:
				if (le == magic116 || le == magic12 || be == magic116 || be == magic12) &&
					b[j+4] == 0 && b[j+5] == 0 && (b[j+6] == 1 || b[j+6] == 2 || b[j+6] == 4) && (b[j+7] == 4 || b[j+7] == 8) {
					old = true
				}
				continue
			}
			if h := checkPCHeader(b[j:], order, magic); h != nil {
				h.addr = r.vaddr + uint64(j)
				return h, nil
			}
		}
	}
	if old {
		return nil, fmt.Errorf("%w: the binary was built by Go 1.17 or older", ErrNotGo)
	}
	return nil, ErrNotGo
}

func checkPCHeader(b []byte, order binary.ByteOrder, magic uint32) *pcHeader {
	if b[4] != 0 || b[5] != 0 {
		return nil
	}
	h := &pcHeader{data: b, order: order, minLC: int(b[6]), ptrSize: int(b[7]), go120: magic == magic120}
	switch h.minLC {
	case 1, 2, 4:
	default:
		return nil
	}
	if h.ptrSize != 4 && h.ptrSize != 8 {
		return nil
	}
	hdrSize := uint64(8 + 8*h.ptrSize)
	if uint64(len(b)) < hdrSize {
		return nil
	}
	word := func(i int) uint64 {
		p := b[8+i*h.ptrSize:]
		if h.ptrSize == 4 {
			return uint64(order.Uint32(p))
		}
		return order.Uint64(p)
	}
	h.nfunc = word(0)
	h.funcnameOff, h.cuOff, h.filetabOff, h.pctabOff, h.pclnOff = word(3), word(4), word(5), word(6), word(7)
	n := uint64(len(b))
	if !(hdrSize <= h.funcnameOff && h.funcnameOff < h.cuOff && h.cuOff <= h.filetabOff &&
		h.filetabOff <= h.pctabOff && h.pctabOff <= h.pclnOff && h.pclnOff < n) {
		return nil
	}
	// functab: nfunc {entryOff, funcOff uint32} pairs and the end entryOff.
	if h.nfunc == 0 || h.nfunc >= (n-h.pclnOff)/8 {
		return nil
	}
	ft := b[h.pclnOff:]
	funcOff := uint64(order.Uint32(ft[4:]))
	if funcOff < h.nfunc*8+4 || funcOff+8 > n-h.pclnOff {
		return nil
	}
	nameOff := uint64(order.Uint32(ft[funcOff+4:]))
	if nameOff >= h.cuOff-h.funcnameOff {
		return nil
	}
	return h
}

// table is the decoded function table.
type table struct {
	hdr         *pcHeader
	funcnametab []byte
	pctab       []byte
	pclntab     []byte // functab and _func records
	nfunc       uint64
	funcHdr     uint64 // size of the fixed part of _func
}

var errCorrupt = errors.New("gosym: corrupt function table")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errCorrupt, fmt.Sprintf(format, args...))
}

// newTable slices the parts of the function table out of the header's region,
// with the lengths from moduledata when it was found (md may be nil).
func newTable(h *pcHeader, md *moduledata) (*table, error) {
	t := &table{
		hdr:         h,
		funcnametab: h.data[h.funcnameOff:h.cuOff],
		pctab:       h.data[h.pctabOff:h.pclnOff],
		pclntab:     h.data[h.pclnOff:],
		nfunc:       h.nfunc,
		funcHdr:     40,
	}
	if h.go120 {
		t.funcHdr = 44
	}
	if md != nil {
		// moduledata's slice lengths are exact; the header's offsets include
		// alignment padding and the region's tail.
		clip := func(b []byte, n uint64) []byte {
			if n <= uint64(len(b)) {
				return b[:n]
			}
			return b
		}
		t.funcnametab = clip(t.funcnametab, md.funcnametabLen)
		t.pctab = clip(t.pctab, md.pctabLen)
		t.pclntab = clip(t.pclntab, md.pclntabLen)
	}
	if t.nfunc*8+4 > uint64(len(t.pclntab)) {
		return nil, corrupt("functab of %d functions does not fit in %d bytes", t.nfunc, len(t.pclntab))
	}
	return t, nil
}

func (t *table) u32(b []byte, off uint64) (uint32, bool) {
	if off > uint64(len(b)) || uint64(len(b))-off < 4 {
		return 0, false
	}
	return t.hdr.order.Uint32(b[off:]), true
}

// nameAt returns the bounds of the NUL-terminated name at off in funcnametab,
// which must start a name.
func (t *table) nameAt(off uint64) (lo, hi int, ok bool) {
	b := t.funcnametab
	if off >= uint64(len(b)) || b[off] == 0 || (off > 0 && b[off-1] != 0) {
		return 0, 0, false
	}
	for i := int(off); i < len(b); i++ {
		if b[i] == 0 {
			return int(off), i, true
		}
	}
	return 0, 0, false
}

// inlRef is one function's inline tree.
type inlRef struct {
	fdOff uint32 // offset of the tree from gofunc
	count int    // entries
	size  uint64 // size of the function's code, bounding parentPc
}

// funcs decodes the functab: the name (as bounds in funcnametab) of each
// function and where its inline tree is.
func (t *table) funcs(names nameSet) (inl []inlRef, err error) {
	counts := make(map[uint32]int) // pctab offset -> inline tree length; pctab is deduplicated
	var total int
	for i := uint64(0); i < t.nfunc; i++ {
		entry, _ := t.u32(t.pclntab, i*8)
		next, _ := t.u32(t.pclntab, (i+1)*8)
		funcOff, _ := t.u32(t.pclntab, i*8+4)
		if next < entry {
			return nil, corrupt("functab not sorted at function %d", i)
		}
		f := uint64(funcOff)
		if f < t.nfunc*8+4 || f > uint64(len(t.pclntab)) || uint64(len(t.pclntab))-f < t.funcHdr {
			return nil, corrupt("function %d: record offset %#x out of range", i, funcOff)
		}
		rec := t.pclntab[f:]
		nameOff, _ := t.u32(rec, 4)
		if _, _, ok := t.nameAt(uint64(nameOff)); !ok {
			return nil, corrupt("function %d: bad name offset %#x", i, nameOff)
		}
		names.add(int(nameOff))

		npcdata, _ := t.u32(rec, 28)
		nfuncdata := uint64(rec[t.funcHdr-1])
		if uint64(npcdata) > (uint64(len(rec))-t.funcHdr)/4 ||
			t.funcHdr+uint64(npcdata)*4+nfuncdata*4 > uint64(len(rec)) {
			return nil, corrupt("function %d: pcdata/funcdata beyond the table", i)
		}
		if npcdata <= pcdataInlTreeIndex || nfuncdata <= funcdataInlTree {
			continue
		}
		pcOff, _ := t.u32(rec, t.funcHdr+pcdataInlTreeIndex*4)
		fdOff, _ := t.u32(rec, t.funcHdr+uint64(npcdata)*4+funcdataInlTree*4)
		if pcOff == 0 || fdOff == ^uint32(0) {
			continue
		}
		n, seen := counts[pcOff]
		if !seen {
			n, err = t.maxPCValue(pcOff)
			if err != nil {
				return nil, fmt.Errorf("function %d: %w", i, err)
			}
			n++
			counts[pcOff] = n
		}
		if n <= 0 {
			continue
		}
		if total += n; total > maxInlineTotal {
			return nil, corrupt("more than %d inlined calls", maxInlineTotal)
		}
		inl = append(inl, inlRef{fdOff: fdOff, count: n, size: uint64(next - entry)})
	}
	return inl, nil
}

// maxPCValue returns the largest value in the pc-value table at off (-1 if
// none), decoding it as runtime.step does.
func (t *table) maxPCValue(off uint32) (int, error) {
	if uint64(off) >= uint64(len(t.pctab)) {
		return 0, corrupt("pc-value table offset %#x out of range", off)
	}
	p := t.pctab[off:]
	val, maxVal := int64(-1), int64(-1)
	for step := 0; ; step++ {
		if step > maxPCValueSteps {
			return 0, corrupt("pc-value table too long")
		}
		uv, n := binary.Uvarint(p)
		if n <= 0 || uv > 0xffffffff {
			return 0, corrupt("bad pc-value table")
		}
		p = p[n:]
		if uv == 0 && step > 0 {
			break
		}
		d := int64(int32(uint32(uv>>1) ^ -uint32(uv&1)))
		if _, n = binary.Uvarint(p); n <= 0 {
			return 0, corrupt("bad pc-value table")
		}
		p = p[n:]
		val += d
		if val > maxVal {
			maxVal = val
		}
	}
	if maxVal >= maxInlineTree {
		return 0, corrupt("inline tree of %d entries", maxVal+1)
	}
	return int(maxVal), nil
}

// inlineNames decodes every inline tree with gofunc as the base address and
// adds the names of the inlined functions to names. It fails if any entry is
// not well-formed, which is what tells a right gofunc from a wrong one.
func (t *table) inlineNames(m *memory, gofunc uint64, inl []inlRef, names nameSet) error {
	stride, nameAt := uint64(16), uint64(4)
	if !t.hdr.go120 {
		stride, nameAt = 20, 12
	}
	for k, ref := range inl {
		addr := gofunc + uint64(ref.fdOff)
		if addr < gofunc {
			return corrupt("inline tree address overflow")
		}
		b := m.at(addr)
		need := uint64(ref.count) * stride
		if uint64(len(b)) < need {
			return corrupt("inline tree %d at %#x outside the read-only data", k, addr)
		}
		for i := 0; i < ref.count; i++ {
			e := b[uint64(i)*stride:]
			o := t.hdr.order
			var funcID byte
			var parentPC int32
			if t.hdr.go120 {
				funcID, parentPC = e[0], int32(o.Uint32(e[8:]))
				if e[1]|e[2]|e[3] != 0 || int32(o.Uint32(e[12:])) < 0 {
					return corrupt("inline tree %d entry %d malformed", k, i)
				}
			} else {
				parent := int16(o.Uint16(e))
				funcID, parentPC = e[2], int32(o.Uint32(e[16:]))
				if e[3] != 0 || parent < -1 || int(parent) >= ref.count ||
					int32(o.Uint32(e[4:])) < 0 || int32(o.Uint32(e[8:])) < 0 {
					return corrupt("inline tree %d entry %d malformed", k, i)
				}
			}
			if funcID >= 64 || parentPC < 0 || uint64(parentPC) > ref.size {
				return corrupt("inline tree %d entry %d malformed", k, i)
			}
			off := o.Uint32(e[nameAt:])
			if _, _, ok := t.nameAt(uint64(off)); !ok {
				return corrupt("inline tree %d entry %d: bad name offset", k, i)
			}
			names.add(int(off))
		}
	}
	return nil
}

// allNames returns every name in funcnametab. The linker writes there the name
// of each function in the table and of each function inlined into one, and
// nothing else (walkFuncs in cmd/link/internal/ld/pcln.go, Go 1.18 to at
// least 1.27), so this is the same set as functab plus inline trees; it is what
// Read falls back to when moduledata, and with it go:func.*, cannot be found.
func (t *table) allNames(names nameSet) {
	b := t.funcnametab
	lo := 0
	for i, c := range b {
		if c == 0 {
			if i > lo {
				names.add(lo)
			}
			lo = i + 1
		}
	}
}

// A nameSet is a set of names, each given by its offset in funcnametab.
type nameSet []uint64

func newNameSet(n int) nameSet { return make(nameSet, (n+63)/64) }

func (s nameSet) add(off int)      { s[off/64] |= 1 << (off % 64) }
func (s nameSet) has(off int) bool { return s[off/64]&(1<<(off%64)) != 0 }
func (s nameSet) clear()           { clear(s) }

// names returns the sorted, deduplicated names in s, substrings of all (the
// name table as a string), and how many of them are also in also.
func (t *table) names(all string, s, also nameSet) (out []string, inAlso int) {
	type entry struct {
		name string
		also bool
	}
	var es []entry
	for w, word := range s {
		for word != 0 {
			off := w*64 + bits.TrailingZeros64(word)
			word &= word - 1
			end := strings.IndexByte(all[off:], 0)
			if end < 0 {
				end = len(all) - off
			}
			es = append(es, entry{all[off : off+end], also != nil && also.has(off)})
		}
	}
	slices.SortFunc(es, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	out = make([]string, 0, len(es))
	for i := 0; i < len(es); {
		j, inBoth := i, false
		for ; j < len(es) && es[j].name == es[i].name; j++ {
			inBoth = inBoth || es[j].also
		}
		out = append(out, es[i].name)
		if inBoth {
			inAlso++
		}
		i = j
	}
	return out, inAlso
}
