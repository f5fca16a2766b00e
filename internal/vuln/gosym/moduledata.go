package gosym

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"
)

// Finding go:func.* without a symbol table.
//
// Funcdata offsets, the inline trees' among them, are relative to
// runtime.moduledata.gofunc, the address of the go:func.* symbol. Unstripped
// binaries name that symbol in .symtab; -s removes .symtab, which is how
// tools that look the symbol up (govulncheck, golang/go#57764) lose the
// inlined functions of stripped binaries. The runtime itself never looks it
// up: it reads moduledata, and so does this package.
//
// runtime.firstmoduledata is a statically initialised variable in the
// writable data (.noptrdata; .go.module since Go 1.26) whose first word is a
// pointer to the pcHeader and whose next six words-triples are slices into the
// function table:
//
//	0      pcHeader
//	1-3    funcnametab   = pcHeader + funcnameOffset, len, cap
//	4-6    cutab         = pcHeader + cuOffset
//	7-9    filetab       = pcHeader + filetabOffset
//	10-12  pctab         = pcHeader + pctabOffset
//	13-15  pclntable     = pcHeader + pclnOffset
//	16-18  ftab          = pcHeader + pclnOffset, len nfunc+1
//	19...  findfunctab, minpc, maxpc, text, etext, noptrdata, enoptrdata,
//	       data, edata, bss, ebss, noptrbss, enoptrbss, [covctrs, ecovctrs,]
//	       end, gcdata, gcbss, types, [typedesclen,] etypes,
//	       [itaboffset, itabsize,] rodata, gofunc, ...
//
// So the scan looks, at pointer alignment in the file-backed writable data,
// for the pcHeader's address followed by those slices: twelve words that must
// all agree, which nothing else in a binary does. gofunc then sits at word 38
// (Go 1.18, 1.19: no covctrs), 40 (Go 1.20 to 1.26) or 43 (Go 1.27:
// typedesclen, itaboffset, itabsize). Because later versions may move it
// again, the index is only where the search starts: a candidate is accepted
// only if every inline tree decodes well-formed from it (see inlineNames), and
// the other words of moduledata that point into read-only data are tried in
// turn. With a few inline trees in a binary, a wrong base fails at once.
//
// Internally linked Go binaries, PIE included, store these pointers in the
// file, and so does GNU ld for externally linked PIE on amd64 (tested up to
// Go 1.25, whose external PIE keeps the function table in .data.rel.ro: see
// splitRelro). A linker that leaves them to the dynamic loader (GNU ld on
// arm64 without --apply-dynamic-relocs, untested) leaves no moduledata to
// find; then Read falls back to funcnametab (see allNames), which lists the
// same names.

const mdWords = 64 // words of moduledata read; gofunc is well inside

type moduledata struct {
	addr                                 uint64
	words                                []uint64
	funcnametabLen, pctabLen, pclntabLen uint64
}

// gofuncIndex lists where gofunc was in each known moduledata layout.
func gofuncIndex(go120 bool) []int {
	if !go120 {
		return []int{38}
	}
	return []int{40, 43}
}

func findModuledata(src source, l *layout, h *pcHeader) *moduledata {
	ps := int64(h.ptrSize)
	pat := make([]byte, ps)
	if ps == 4 {
		h.order.PutUint32(pat, uint32(h.addr))
	} else {
		h.order.PutUint64(pat, h.addr)
	}
	var md *moduledata
	scanWritable(src, l, pat, uint64(ps), func(r region, pos int64) bool {
		md = readModuledata(src, r, pos, h)
		return md != nil
	})
	return md
}

// readModuledata reads and checks the moduledata candidate at file offset pos.
func readModuledata(src source, r region, pos int64, h *pcHeader) *moduledata {
	ps := int64(h.ptrSize)
	n := min(mdWords*ps, r.off+r.filesz-pos)
	n -= n % ps
	if n < 19*ps {
		return nil
	}
	b := make([]byte, n)
	if _, err := src.ReadAt(b, pos); err != nil {
		return nil
	}
	w := make([]uint64, n/ps)
	for i := range w {
		if ps == 4 {
			w[i] = uint64(h.order.Uint32(b[i*4:]))
		} else {
			w[i] = h.order.Uint64(b[i*8:])
		}
	}
	a := h.addr
	ok := w[0] == a &&
		w[1] == a+h.funcnameOff && w[2] <= w[3] && w[2] <= h.cuOff-h.funcnameOff &&
		w[4] == a+h.cuOff && w[5] <= w[6] &&
		w[7] == a+h.filetabOff && w[8] <= w[9] &&
		w[10] == a+h.pctabOff && w[11] <= w[12] && w[11] <= h.pclnOff-h.pctabOff &&
		w[13] == a+h.pclnOff && w[14] <= w[15] &&
		w[16] == a+h.pclnOff && w[17] == h.nfunc+1 && w[17] <= w[18]
	if !ok {
		return nil
	}
	return &moduledata{
		addr:           r.vaddr + uint64(pos-r.off),
		words:          w,
		funcnametabLen: w[2],
		pctabLen:       w[11],
		pclntabLen:     w[14],
	}
}

// gofuncCandidates returns the words of moduledata that may be gofunc, the
// known positions first.
func (md *moduledata) gofuncCandidates(go120 bool, m *memory) []uint64 {
	var out []uint64
	seen := map[uint64]bool{}
	add := func(i int) {
		if i >= len(md.words) {
			return
		}
		v := md.words[i]
		if v == 0 || seen[v] || m.at(v) == nil {
			return
		}
		seen[v] = true
		out = append(out, v)
	}
	for _, i := range gofuncIndex(go120) {
		add(i)
	}
	for i := 19; i < len(md.words); i++ {
		add(i)
	}
	return out
}

const (
	buildInfoMagic  = "\xff Go buildinf:"
	buildInfoWindow = 256 // header, version length and version
)

// readGoVersion returns the Go version recorded in the build information blob
// (buildInfoMagic, 16-byte aligned in the writable data; Go 1.18+ stores the
// version inline after the 32-byte header), or "".
func readGoVersion(src source, l *layout) string {
	var v string
	scanWritable(src, l, []byte(buildInfoMagic), 16, func(r region, pos int64) bool {
		v = readBuildInfo(src, r, pos)
		return v != ""
	})
	return v
}

func readBuildInfo(src source, r region, pos int64) string {
	n := min(buildInfoWindow, r.off+r.filesz-pos)
	if n < 33 {
		return ""
	}
	b := make([]byte, n)
	if _, err := src.ReadAt(b, pos); err != nil {
		return ""
	}
	if b[15]&2 == 0 {
		return "" // pre-1.18 layout with pointers
	}
	v, k := binary.Uvarint(b[32:])
	if k <= 0 || v == 0 || v > uint64(len(b)-32-k) {
		return ""
	}
	s := string(b[32+k : 32+k+int(v)])
	if !utf8.ValidString(s) {
		return ""
	}
	return s
}

// scanWritable finds pat at align-aligned virtual addresses of the
// writable segments, reading them a chunk at a time (a match straddling
// two chunks is found in the second), and calls found for each match
// until it returns true.
func scanWritable(src source, l *layout, pat []byte, align uint64, found func(r region, pos int64) bool) {
	const chunkSize = 1 << 20
	var buf []byte
	for _, r := range l.regions {
		if r.kind != kindWritable {
			continue
		}
		for _, sp := range src.avail(r.off, r.filesz) {
			for off := sp.off; off < sp.off+sp.n; {
				n := min(int64(chunkSize), sp.off+sp.n-off)
				if int64(cap(buf)) < n {
					buf = make([]byte, n)
				}
				b := buf[:n]
				if _, err := src.ReadAt(b, off); err != nil {
					break
				}
				for i := 0; ; {
					j := bytes.Index(b[i:], pat)
					if j < 0 {
						break
					}
					pos := off + int64(i+j)
					i += j + 1
					if (r.vaddr+uint64(pos-r.off))%align != 0 {
						continue
					}
					if found(r, pos) {
						return
					}
				}
				if off+n < sp.off+sp.n {
					off += n - int64(len(pat)) + 1
				} else {
					off += n
				}
			}
		}
	}
}
