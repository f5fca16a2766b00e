package gosym

import (
	"encoding/binary"
	"slices"
	"sort"
)

// A synthetic Go executable: an ELF file with a read-only segment holding a
// function table (and go:func.* after it, as Go 1.26 lays it out) and a
// writable segment holding the build information and moduledata. It is small
// enough to fuzz, and it exercises layouts no local toolchain produces (Go
// 1.18's, big-endian 32-bit, moduledata with gofunc at an unknown index).

type synthFunc struct {
	name    string
	inlined []string // the function's inline tree, in order
}

type synthOpts struct {
	order        binary.ByteOrder // default little-endian
	ptrSize      int              // default 8
	go118        bool             // Go 1.18/1.19 layout
	gofuncIndex  int              // word of moduledata holding gofunc; default per version
	noModuledata bool             // leave moduledata out (as if its pointers were relocated at load time)
	version      string           // build information; "" leaves it out
	relro        bool             // function table in a writable segment made read-only by PT_GNU_RELRO
}

const (
	synthROAddr = 0x401000
	synthRWAddr = 0x600000
	synthROOff  = 0x1000
)

func synthELF(funcs []synthFunc, o synthOpts) []byte {
	if o.order == nil {
		o.order = binary.LittleEndian
	}
	if o.ptrSize == 0 {
		o.ptrSize = 8
	}
	if o.gofuncIndex == 0 {
		o.gofuncIndex = gofuncIndex(!o.go118)[0]
	}
	ord, ps := o.order, o.ptrSize
	put32 := func(b []byte, v uint32) { ord.PutUint32(b, v) }
	putPtr := func(b []byte, v uint64) {
		if ps == 4 {
			ord.PutUint32(b, uint32(v))
		} else {
			ord.PutUint64(b, v)
		}
	}
	align := func(b []byte, a int) []byte {
		for len(b)%a != 0 {
			b = append(b, 0)
		}
		return b
	}

	// funcnametab: functions first, then inlined-only names.
	var names []string
	nameOff := map[string]uint32{}
	var nametab []byte
	addName := func(n string) {
		if _, ok := nameOff[n]; ok {
			return
		}
		nameOff[n] = uint32(len(nametab))
		names = append(names, n)
		nametab = append(append(nametab, n...), 0)
	}
	for _, f := range funcs {
		addName(f.name)
	}
	for _, f := range funcs {
		for _, n := range f.inlined {
			addName(n)
		}
	}

	// pctab: a zero byte (offset 0 means "no table"), then one
	// inline-tree-index table per function with inlined calls.
	pctab := []byte{0}
	pcOff := make([]uint32, len(funcs))
	for i, f := range funcs {
		if len(f.inlined) == 0 {
			continue
		}
		pcOff[i] = uint32(len(pctab))
		// -1 for 4 bytes, then 0, 1, ... each for 4 bytes, then -1.
		pctab = binary.AppendUvarint(pctab, 0) // first step: value stays -1 (a 0 ends a table only after the first step)
		pctab = binary.AppendUvarint(pctab, 4)
		for range f.inlined {
			pctab = binary.AppendUvarint(pctab, 2) // +1
			pctab = binary.AppendUvarint(pctab, 4)
		}
		pctab = binary.AppendUvarint(pctab, 0) // end
	}

	const funcSize = 0x40
	funcHdr := 44
	stride := 16
	if o.go118 {
		funcHdr, stride = 40, 20
	}

	// go:func.*: the inline trees.
	var gofunc []byte
	fdOff := make([]uint32, len(funcs))
	for i, f := range funcs {
		if len(f.inlined) == 0 {
			continue
		}
		fdOff[i] = uint32(len(gofunc))
		for j, n := range f.inlined {
			e := make([]byte, stride)
			if o.go118 {
				ord.PutUint16(e, uint16(int16(j-1))) // parent
				put32(e[4:], 1)                      // file
				put32(e[8:], uint32(10+j))           // line
				put32(e[12:], nameOff[n])
				put32(e[16:], uint32(4*j)) // parentPc
			} else {
				put32(e[4:], nameOff[n])
				put32(e[8:], uint32(4*j))
				put32(e[12:], uint32(10+j)) // startLine
			}
			gofunc = append(gofunc, e...)
		}
	}

	// pclntab: functab, then _func records.
	nf := len(funcs)
	pcln := make([]byte, nf*8+4)
	pcln = align(pcln, ps)
	for i, f := range funcs {
		put32(pcln[i*8:], uint32(i*funcSize))
		put32(pcln[i*8+4:], uint32(len(pcln)))
		rec := make([]byte, funcHdr)
		put32(rec[4:], nameOff[f.name])
		var npcdata, nfuncdata int
		if len(f.inlined) > 0 {
			npcdata, nfuncdata = 3, 4
		}
		put32(rec[28:], uint32(npcdata))
		rec[funcHdr-1] = byte(nfuncdata)
		if npcdata > 0 {
			pd := make([]byte, 4*npcdata+4*nfuncdata)
			put32(pd[8:], pcOff[i])
			for k := 0; k < nfuncdata; k++ {
				put32(pd[4*npcdata+4*k:], ^uint32(0))
			}
			put32(pd[4*npcdata+12:], fdOff[i])
			rec = append(rec, pd...)
		}
		pcln = append(pcln, rec...)
		pcln = align(pcln, 4)
	}
	put32(pcln[nf*8:], uint32(nf*funcSize))

	// The read-only segment: header, funcnametab, (empty cutab and
	// filetab), pctab, pclntab, go:func.*.
	hdrSize := 8 + 8*ps
	ro := make([]byte, hdrSize)
	funcnameOff := len(ro)
	ro = append(ro, nametab...)
	ro = align(ro, 4)
	cuOff := len(ro)
	pctabOff := len(ro)
	ro = append(ro, pctab...)
	ro = align(ro, 8)
	pclnOff := len(ro)
	ro = append(ro, pcln...)
	ro = align(ro, 8)
	gofuncOff := len(ro)
	ro = append(ro, gofunc...)
	ro = append(ro, make([]byte, 16)...)
	magic := uint32(magic120)
	if o.go118 {
		magic = magic118
	}
	put32(ro, magic)
	ro[6], ro[7] = 1, byte(ps)
	for i, v := range []uint64{uint64(nf), 0, 0, uint64(funcnameOff), uint64(cuOff), uint64(cuOff), uint64(pctabOff), uint64(pclnOff)} {
		putPtr(ro[8+i*ps:], v)
	}

	// The writable segment: build information, then moduledata.
	var rw []byte
	if o.version != "" {
		bi := make([]byte, 32)
		copy(bi, buildInfoMagic)
		bi[14] = byte(ps)
		bi[15] = 2
		bi = binary.AppendUvarint(bi, uint64(len(o.version)))
		bi = append(bi, o.version...)
		bi = binary.AppendUvarint(bi, 0)
		rw = append(rw, bi...)
	}
	rw = align(rw, 32)
	if !o.noModuledata {
		md := make([]byte, mdWords*ps)
		w := func(i int, v uint64) { putPtr(md[i*ps:], v) }
		a := uint64(synthROAddr)
		w(0, a)
		w(1, a+uint64(funcnameOff))
		w(2, uint64(len(nametab)))
		w(3, uint64(len(nametab)))
		w(4, a+uint64(cuOff))
		w(7, a+uint64(cuOff))
		w(10, a+uint64(pctabOff))
		w(11, uint64(len(pctab)))
		w(12, uint64(len(pctab)))
		w(13, a+uint64(pclnOff))
		w(14, uint64(len(pcln)))
		w(15, uint64(len(pcln)))
		w(16, a+uint64(pclnOff))
		w(17, uint64(nf+1))
		w(18, uint64(nf+1))
		// Other words pointing into the read-only data, as types,
		// etypes, rodata and epclntab do, to be told from gofunc.
		for i := 19; i < mdWords-8; i += 3 {
			w(i, a+uint64(i*8%len(ro)))
		}
		w(o.gofuncIndex, a+uint64(gofuncOff))
		rw = append(rw, md...)
	}
	rw = append(rw, make([]byte, 64)...)

	// The file: ELF header and two program headers, then the segments.
	rwOff := synthROOff + len(ro)
	rwOff = (rwOff + 0xfff) &^ 0xfff
	file := make([]byte, rwOff+len(rw))
	copy(file[synthROOff:], ro)
	copy(file[rwOff:], rw)
	copy(file, "\x7fELF")
	if ord == binary.ByteOrder(binary.BigEndian) {
		file[5] = 2
	} else {
		file[5] = 1
	}
	file[6] = 1
	ord.PutUint16(file[16:], 2) // ET_EXEC
	ord.PutUint16(file[18:], 62)
	type phdr struct {
		typ, flags uint32
		off, addr  uint64
		size       int
	}
	phdrs := []phdr{{1, 4, synthROOff, synthROAddr, len(ro)}, {1, 6, uint64(rwOff), synthRWAddr, len(rw)}}
	if o.relro {
		phdrs[0].flags = 6
		phdrs = append(phdrs, phdr{0x6474e552, 4, synthROOff, synthROAddr, len(ro)})
	}
	if ps == 4 {
		file[4] = 1
		ord.PutUint32(file[0x1c:], 52)
		ord.PutUint16(file[0x2a:], 32)
		ord.PutUint16(file[0x2c:], uint16(len(phdrs)))
		for i, p := range phdrs {
			b := file[52+32*i:]
			put32(b, p.typ)
			put32(b[4:], uint32(p.off))
			put32(b[8:], uint32(p.addr))
			put32(b[16:], uint32(p.size))
			put32(b[20:], uint32(p.size))
			put32(b[24:], p.flags)
		}
	} else {
		file[4] = 2
		ord.PutUint64(file[0x20:], 64)
		ord.PutUint16(file[0x36:], 56)
		ord.PutUint16(file[0x38:], uint16(len(phdrs)))
		for i, p := range phdrs {
			b := file[64+56*i:]
			put32(b, p.typ)
			put32(b[4:], p.flags)
			ord.PutUint64(b[8:], p.off)
			ord.PutUint64(b[16:], p.addr)
			ord.PutUint64(b[32:], uint64(p.size))
			ord.PutUint64(b[40:], uint64(p.size))
		}
	}
	return file
}

// synthNames is what Funcs should return for funcs.
func synthNames(funcs []synthFunc) []string {
	var out []string
	for _, f := range funcs {
		out = append(out, f.name)
		out = append(out, f.inlined...)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

var synthFuncs = []synthFunc{
	{name: "main.main", inlined: []string{"example.com/m/helper.Twice", "strings.Index"}},
	{name: "net/http.(*conn).serve", inlined: []string{"net/http.(*conn).hijacked", "golang.org/x/text/language.Parse"}},
	{name: "net/http.Header.Get"},
	{name: "example.com/m/dot%2epkg.Max[...]"},
	{name: "example.com/m/dot%2epkg.(*T[...]).Get", inlined: []string{"example.com/m/dot%2epkg.T.Val"}},
	{name: "type:.eq.main.T"},
	{name: "runtime.main", inlined: []string{"runtime.(*g).ready", "runtime.main"}},
}
