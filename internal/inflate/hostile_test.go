package inflate_test

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/redline-go/redline/internal/inflate"
)

// Expected outcome of a hand-crafted stream, stated independently of both
// decoders so that the test fails if either one (or the reference) changes.
type want int

const (
	wantOK      want = iota // decodes cleanly
	wantCorrupt             // stdlib: flate.CorruptInputError; ours: *inflate.CorruptError
	wantEOF                 // both: io.ErrUnexpectedEOF
)

func (w want) String() string {
	return [...]string{"ok", "corrupt", "unexpected EOF"}[w]
}

type hostileCase struct {
	name string
	in   []byte
	want want
	out  []byte // for wantOK: the exact output; otherwise a prefix bound (nil: unchecked)
}

// stream runs f on a fresh bitWriter and returns the bytes.
func stream(f func(w *bitWriter)) []byte {
	var w bitWriter
	f(&w)
	return w.bytes()
}

// repeat returns n copies of b.
func repeat(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

func u8s(pairs ...any) []uint8 {
	// u8s(n1, l1, n2, l2, ...) = n1 copies of l1, then n2 copies of l2...
	var out []uint8
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, bytes.Repeat([]byte{byte(pairs[i+1].(int))}, pairs[i].(int))...)
	}
	return out
}

// litLens257 returns 257 literal/length code lengths: literal 'a' and EOB
// (256) with 1-bit codes, everything else unused. Callers patch it.
func litLensAEOB() []uint8 {
	l := make([]uint8, 257)
	l['a'] = 1
	l[256] = 1
	return l
}

// clAll is a complete code-length code over all 19 symbols (13 of length 4,
// 6 of length 5), so any code-length symbol can be written.
func clAll() [19]uint8 {
	var c [19]uint8
	for i := range c {
		c[i] = 4
	}
	for _, s := range []int{13, 14, 15, 16, 17, 18} {
		c[s] = 5
	}
	return c
}

// dynRaw writes a dynamic block header with HCLEN=15 (all 19 lengths) and
// the complete code-length code clAll, then the given code-length symbols.
func dynRaw(w *bitWriter, final bool, hlit, hdist int, syms []clSym) {
	w.dynHeaderRaw(final, hlit, hdist, 15, clAll(), syms)
}

func hostileCases() []hostileCase {
	var cs []hostileCase
	add := func(name string, want want, out []byte, in []byte) {
		cs = append(cs, hostileCase{name: name, in: in, want: want, out: out})
	}
	aLens := litLensAEOB()
	a := newHuff(aLens)

	// --- trivial and block types ---
	add("empty input", wantEOF, nil, nil)
	add("one zero byte (non-final stored, truncated)", wantEOF, nil, []byte{0x00})
	add("block type 3 final", wantCorrupt, nil, []byte{0x07})
	add("block type 3 non-final", wantCorrupt, nil, []byte{0x06})
	add("block type 3 after a valid block", wantCorrupt, []byte("hi"), stream(func(w *bitWriter) {
		w.fixed(false, lits("hi"))
		w.header(true, 3)
	}))

	// --- stored blocks ---
	add("stored LEN/NLEN mismatch", wantCorrupt, nil, []byte{0x01, 0x05, 0x00, 0x00, 0x00, 'h', 'e', 'l', 'l', 'o'})
	add("stored NLEN off by one", wantCorrupt, nil, []byte{0x01, 0x05, 0x00, 0xfb, 0xff, 'h', 'e', 'l', 'l', 'o'})
	add("stored truncated data", wantEOF, nil, []byte{0x01, 0x05, 0x00, 0xfa, 0xff, 'h', 'e'})
	add("stored truncated in LEN", wantEOF, nil, []byte{0x01, 0x05})
	add("stored truncated in NLEN", wantEOF, nil, []byte{0x01, 0x05, 0x00, 0xfa})
	add("stored truncated before LEN", wantEOF, nil, []byte{0x01})
	add("stored empty final", wantOK, []byte{}, []byte{0x01, 0x00, 0x00, 0xff, 0xff})
	add("stored nonzero padding bits", wantOK, []byte("hello"), []byte{0xf9, 0x05, 0x00, 0xfa, 0xff, 'h', 'e', 'l', 'l', 'o'})
	add("stored 65535 bytes", wantOK, repeat('s', 65535), stream(func(w *bitWriter) { w.stored(true, repeat('s', 65535)) }))
	add("stored after fixed, nonzero padding mid-byte", wantOK, []byte("abcxyz"), stream(func(w *bitWriter) {
		w.fixed(false, lits("abc"))
		w.header(true, 0)
		w.align(0xff) // padding bits before LEN are ignored
		w.raw(3, 0, 0xfc, 0xff, 'x', 'y', 'z')
	}))
	add("empty stored blocks then final", wantOK, []byte("q"), stream(func(w *bitWriter) {
		for range 5 {
			w.stored(false, nil)
		}
		w.fixed(true, lits("q"))
	}))

	// --- final block missing ---
	add("non-final fixed block then end", wantEOF, []byte("abc"), stream(func(w *bitWriter) { w.fixed(false, lits("abc")) }))
	add("non-final empty stored block then end", wantEOF, []byte{}, []byte{0x00, 0x00, 0x00, 0xff, 0xff})
	add("fixed block without end-of-block", wantEOF, []byte("abc"), stream(func(w *bitWriter) {
		w.header(true, 1)
		for _, c := range []byte("abc") {
			fixedLit.put(w, int(c))
		}
	}))
	add("trailing bytes after the final block are not read", wantOK, []byte("done"), append(
		stream(func(w *bitWriter) { w.fixed(true, lits("done")) }), 0xff, 0xff, 0xff))
	add("blocks after the final block are ignored", wantOK, []byte("one"), stream(func(w *bitWriter) {
		w.fixed(true, lits("one"))
		w.header(true, 3) // would be corrupt if read
	}))

	// --- distances ---
	add("first symbol is a match", wantCorrupt, []byte{}, stream(func(w *bitWriter) { w.fixed(true, []tok{match(3, 1)}) }))
	add("distance 2 after one byte", wantCorrupt, []byte("a"), stream(func(w *bitWriter) { w.fixed(true, []tok{lit('a'), match(3, 2)}) }))
	add("distance 1 after one byte (overlap)", wantOK, repeat('a', 259), stream(func(w *bitWriter) { w.fixed(true, []tok{lit('a'), match(258, 1)}) }))
	hundred := textCorpus(100, 12)
	add("distance == bytes written", wantOK, append(append([]byte(nil), hundred...), hundred[:50]...), stream(func(w *bitWriter) {
		w.fixed(true, append(lits(string(hundred)), match(50, 100)))
	}))
	add("distance == bytes written + 1", wantCorrupt, hundred, stream(func(w *bitWriter) {
		w.fixed(true, append(lits(string(hundred)), match(50, 101)))
	}))
	add("distance across a stored block", wantOK, append(append([]byte(nil), hundred...), hundred[:10]...), stream(func(w *bitWriter) {
		w.stored(false, hundred)
		w.fixed(true, []tok{match(10, 100)})
	}))
	add("distance beyond a stored block", wantCorrupt, hundred, stream(func(w *bitWriter) {
		w.stored(false, hundred)
		w.fixed(true, []tok{match(10, 101)})
	}))
	pre32K := randomCorpus(32768, 13)
	add("distance 32768 after 32767 bytes", wantCorrupt, pre32K[:32767], stream(func(w *bitWriter) {
		w.stored(false, pre32K[:32767])
		w.fixed(true, []tok{match(3, 32768)})
	}))
	add("distance 32768 after 32768 bytes", wantOK, append(append([]byte(nil), pre32K...), pre32K[:258]...), stream(func(w *bitWriter) {
		w.stored(false, pre32K)
		w.fixed(true, []tok{match(258, 32768)})
	}))
	for _, code := range []int{30, 31} {
		add("fixed distance code "+itoa(code), wantCorrupt, []byte("abc"), stream(func(w *bitWriter) {
			w.header(true, 1)
			for _, c := range []byte("abc") {
				fixedLit.put(w, int(c))
			}
			fixedLit.put(w, 257) // length 3
			fixedDist.put(w, code)
			w.bits(0, 16) // extra bits a lenient decoder might want
			fixedLit.put(w, 256)
		}))
	}
	for _, sym := range []int{286, 287} {
		add("fixed lit/len symbol "+itoa(sym), wantCorrupt, []byte("abc"), stream(func(w *bitWriter) {
			w.header(true, 1)
			for _, c := range []byte("abc") {
				fixedLit.put(w, int(c))
			}
			fixedLit.put(w, sym)
			fixedDist.put(w, 0)
			fixedLit.put(w, 256)
		}))
	}
	for _, extra := range []uint64{31, 30} { // lengths 258 and 257
		add(fmt.Sprintf("length code 284 with extra %d (length %d)", extra, 227+extra), wantOK, repeat('x', 1+227+int(extra)), stream(func(w *bitWriter) {
			w.header(true, 1)
			fixedLit.put(w, 'x')
			fixedLit.put(w, 284)
			w.bits(extra, 5)
			fixedDist.put(w, 0)
			fixedLit.put(w, 256)
		}))
	}
	add("stream ends right before a length's extra bits", wantEOF, repeat(0xc8, 5), stream(func(w *bitWriter) {
		w.header(true, 1) // 3 bits
		for range 5 {
			fixedLit.put(w, 0xc8) // 9 bits each
		}
		fixedLit.put(w, 284) // 8 bits: 56 in all, then 5 extra bits are missing
		mustBeAligned(w)
	}))
	add("stream ends right before a distance's extra bits", wantEOF, append(append([]byte(nil), pre32K...), 0xc8), stream(func(w *bitWriter) {
		w.stored(false, pre32K)
		w.header(true, 1)     // 3
		fixedLit.put(w, 0xc8) // 9
		fixedLit.put(w, 257)  // 7
		fixedDist.put(w, 29)  // 5: 24 bits, then 13 extra bits are missing
		mustBeAligned(w)
	}))
	add("stream ends inside a distance's extra bits", wantEOF, append(append([]byte(nil), pre32K...), 0xc8), stream(func(w *bitWriter) {
		w.stored(false, pre32K)
		w.header(true, 1)
		fixedLit.put(w, 0xc8)
		fixedLit.put(w, 257)
		fixedDist.put(w, 29)
		w.bits(0x1ff, 8) // 8 of 13 extra bits
		mustBeAligned(w)
	}))

	// --- dynamic headers: HLIT / HDIST / HCLEN ---
	dynA := func(hlit, hdist int) []byte {
		return stream(func(w *bitWriter) {
			ll := make([]uint8, 257+hlit)
			copy(ll, aLens)
			dl := make([]uint8, hdist+1)
			dynRaw(w, true, hlit, hdist, plainCL(ll, dl))
			a.put(w, 'a')
			a.put(w, 256)
		})
	}
	add("HLIT=29 (286 codes) is the maximum", wantOK, []byte("a"), dynA(29, 0))
	add("HLIT=30 (287 codes)", wantCorrupt, []byte{}, dynA(30, 0))
	add("HLIT=31 (288 codes)", wantCorrupt, []byte{}, dynA(31, 0))
	add("HDIST=29 (30 codes) is the maximum", wantOK, []byte("a"), dynA(0, 29))
	add("HDIST=30 (31 codes)", wantCorrupt, []byte{}, dynA(0, 30))
	add("HDIST=31 (32 codes)", wantCorrupt, []byte{}, dynA(0, 31))
	add("dynamic header truncated in HLIT", wantEOF, []byte{}, dynA(0, 0)[:1])
	add("dynamic header truncated in code-length code lengths", wantEOF, []byte{}, dynA(0, 0)[:8])
	add("dynamic header truncated in code lengths", wantEOF, []byte{}, dynA(0, 0)[:30])
	add("dynamic header truncated before the first symbol", wantEOF, []byte{}, func() []byte {
		b := dynA(0, 0)
		return b[:len(b)-1]
	}())
	add("HCLEN=0 (4 code-length codes), only zeros", wantCorrupt, []byte{}, stream(func(w *bitWriter) {
		var cl [19]uint8
		cl[16], cl[17], cl[18], cl[0] = 2, 2, 2, 2
		// 257 + 1 zero lengths: an empty lit/len tree, then a symbol.
		w.dynHeaderRaw(true, 0, 0, 0, cl, []clSym{{18, 127}, {18, 109}})
		w.bits(0, 16)
	}))

	// --- code-length code trees ---
	// A dynamic header with all 19 code-length code lengths, then zeros.
	clOnly := func(set func(cl *[19]uint8)) []byte {
		return stream(func(w *bitWriter) {
			var cl [19]uint8
			set(&cl)
			w.header(true, 2)
			w.bits(0, 5)
			w.bits(0, 5)
			w.bits(15, 4)
			for i := range 19 {
				w.bits(uint64(cl[codeOrder[i]]), 3)
			}
			w.bits(0, 32)
		})
	}
	add("code-length code over-subscribed", wantCorrupt, []byte{}, clOnly(func(cl *[19]uint8) { cl[0], cl[1], cl[8] = 1, 1, 1 }))
	add("code-length code incomplete", wantCorrupt, []byte{}, clOnly(func(cl *[19]uint8) { cl[0], cl[1], cl[18] = 2, 2, 2 }))
	add("code-length code empty", wantCorrupt, []byte{}, clOnly(func(*[19]uint8) {}))
	add("code-length code single 1-bit code (18), all lengths zero", wantCorrupt, []byte{}, stream(func(w *bitWriter) {
		var cl [19]uint8
		cl[18] = 1
		// 258 zero lengths = 138 + 120: an empty lit/len tree.
		w.dynHeaderRaw(true, 0, 0, 15, cl, []clSym{{18, 127}, {18, 109}})
		w.bits(0, 32)
	}))
	add("code-length code single 1-bit code, unused code used", wantCorrupt, []byte{}, stream(func(w *bitWriter) {
		var cl [19]uint8
		cl[18] = 1
		w.dynHeaderRaw(true, 0, 0, 15, cl, []clSym{{18, 127}})
		w.bits(1, 1) // the code "1" is not assigned
		w.bits(0, 32)
	}))

	// --- lit/len and distance trees ---
	add("lit/len code over-subscribed", wantCorrupt, []byte{}, stream(func(w *bitWriter) {
		dynRaw(w, true, 0, 0, plainCL(u8s(257, 8), []uint8{1}))
		w.bits(0, 32)
	}))
	add("lit/len code incomplete", wantCorrupt, []byte{}, stream(func(w *bitWriter) {
		dynRaw(w, true, 0, 0, plainCL(u8s(255, 8, 2, 0), []uint8{1}))
		w.bits(0, 32)
	}))
	add("lit/len code incomplete, long codes", wantCorrupt, []byte{}, stream(func(w *bitWriter) {
		l := make([]uint8, 286)
		for i := range 15 {
			l[i] = uint8(i + 1) // 1,2,...,15: one 15-bit code short of complete
		}
		l[256] = 0
		dynRaw(w, true, 29, 0, plainCL(l, []uint8{1}))
		w.bits(0, 32)
	}))
	add("lit/len code complete with 15-bit codes", wantOK, []byte("\x00\x01\x0e"), stream(func(w *bitWriter) {
		l := make([]uint8, 286)
		for i := range 15 {
			l[i] = uint8(i + 1)
		}
		l[256] = 15
		dynRaw(w, true, 29, 0, plainCL(l, []uint8{1}))
		h := newHuff(l)
		h.put(w, 0)
		h.put(w, 1)
		h.put(w, 14)
		h.put(w, 256)
	}))
	add("distance code over-subscribed", wantCorrupt, []byte{}, stream(func(w *bitWriter) {
		dynRaw(w, true, 0, 2, plainCL(aLens, []uint8{1, 1, 1}))
		a.put(w, 'a')
		a.put(w, 256)
	}))
	add("distance code incomplete (unused)", wantCorrupt, []byte{}, stream(func(w *bitWriter) {
		dynRaw(w, true, 0, 1, plainCL(aLens, []uint8{2, 2}))
		a.put(w, 'a')
		a.put(w, 256)
	}))
	add("lit/len code without end-of-block", wantEOF, nil, stream(func(w *bitWriter) {
		l := make([]uint8, 257)
		l['a'], l['b'] = 1, 1
		dynRaw(w, true, 0, 0, plainCL(l, []uint8{0}))
		w.bits(0, 4) // "aaaa"; the stream then simply ends
	}))

	// Degenerate codes: exactly one code, of length 1. stdlib (like zlib)
	// accepts them; the unassigned code "1" must fail when it is used.
	oneDist := func(bit uint64) []byte {
		return stream(func(w *bitWriter) {
			ll := make([]uint8, 258)
			ll['a'], ll[256], ll[257] = 1, 2, 2
			dynRaw(w, true, 1, 0, plainCL(ll, []uint8{1}))
			h := newHuff(ll)
			h.put(w, 'a')
			h.put(w, 257) // length 3
			w.bits(bit, 1)
			h.put(w, 256)
		})
	}
	add("single 1-bit distance code, used", wantOK, []byte("aaaa"), oneDist(0))
	add("single 1-bit distance code, unassigned code used", wantCorrupt, []byte("a"), oneDist(1))
	oneLit := func(bit uint64) []byte {
		return stream(func(w *bitWriter) {
			ll := make([]uint8, 257)
			ll[256] = 1
			dynRaw(w, true, 0, 0, plainCL(ll, []uint8{0}))
			w.bits(bit, 1)
		})
	}
	add("single 1-bit lit/len code (EOB only)", wantOK, []byte{}, oneLit(0))
	add("single 1-bit lit/len code, unassigned code used", wantCorrupt, []byte{}, oneLit(1))
	add("single 1-bit distance code 29 at distance 32768", wantOK, append(append([]byte(nil), pre32K...), pre32K[:3]...), stream(func(w *bitWriter) {
		w.stored(false, pre32K)
		ll := make([]uint8, 258)
		ll[256], ll[257] = 1, 1
		dl := make([]uint8, 30)
		dl[29] = 1
		dynRaw(w, true, 1, 29, plainCL(ll, dl))
		h := newHuff(ll)
		h.put(w, 257)
		w.bits(0, 1)     // distance code 29 is "0"
		w.bits(8191, 13) // 24577 + 8191 = 32768
		h.put(w, 256)
	}))

	// Empty distance tree: legal while unused.
	emptyDist := func(useIt bool, ndist int) []byte {
		return stream(func(w *bitWriter) {
			ll := make([]uint8, 258)
			ll['a'], ll[256], ll[257] = 1, 2, 2
			dynRaw(w, true, 1, ndist-1, plainCL(ll, make([]uint8, ndist)))
			h := newHuff(ll)
			h.put(w, 'a')
			if useIt {
				h.put(w, 257)
				w.bits(0, 16)
			}
			h.put(w, 256)
		})
	}
	add("empty distance tree (1 zero length), unused", wantOK, []byte("a"), emptyDist(false, 1))
	add("empty distance tree (30 zero lengths), unused", wantOK, []byte("a"), emptyDist(false, 30))
	add("empty distance tree, used", wantCorrupt, []byte("a"), emptyDist(true, 1))
	add("empty distance tree (30), used", wantCorrupt, []byte("a"), emptyDist(true, 30))

	// --- run-length codes in the code lengths ---
	add("repeat code 16 as the first code length", wantCorrupt, []byte{}, stream(func(w *bitWriter) {
		syms := append([]clSym{{16, 0}}, plainCL(aLens[3:], []uint8{0})...)
		dynRaw(w, true, 0, 0, syms)
		w.bits(0, 32)
	}))
	add("repeat code 17 past HLIT+HDIST", wantCorrupt, []byte{}, stream(func(w *bitWriter) {
		syms := plainCL(aLens[:256]) // 256 lengths, then 10 zeros with room for 2
		syms = append(syms, clSym{17, 7})
		dynRaw(w, true, 0, 0, syms)
		w.bits(0, 32)
	}))
	add("repeat code 18 past HLIT+HDIST", wantCorrupt, []byte{}, stream(func(w *bitWriter) {
		syms := append(plainCL(aLens), clSym{18, 0}) // 11 zeros, room for 1
		dynRaw(w, true, 0, 0, syms)
		w.bits(0, 32)
	}))
	add("repeat code 16 past HLIT+HDIST", wantCorrupt, []byte{}, stream(func(w *bitWriter) {
		ll := litLensAEOB()
		syms := append(plainCL(ll[:256]), clSym{sym: 1}, clSym{16, 0}) // EOB then 3 more 1s; room for 1
		dynRaw(w, true, 0, 0, syms)
		w.bits(0, 32)
	}))
	add("repeat code 18 exactly filling HLIT+HDIST", wantOK, []byte("a"), stream(func(w *bitWriter) {
		// 'a'(97) 1, zeros to 255, EOB 1, then 30 distance zeros by code 18.
		syms := []clSym{{18, 97 - 11}, {sym: 1}, {18, 127}, {18, 20 - 11}, {sym: 1}, {18, 30 - 11}}
		dynRaw(w, true, 0, 29, syms)
		a.put(w, 'a')
		a.put(w, 256)
	}))
	add("repeat code 16 crossing from lit/len into distance lengths", wantOK, []byte("aaaa"), stream(func(w *bitWriter) {
		// lit/len (HLIT=1, 258 codes): 'a' 1, EOB 2, 257 2. Distance (HDIST=3):
		// four codes of length 2. After EOB's length, one code 16 repeats
		// "2" five times: lit/len 257 and distance 0..3.
		syms := []clSym{{18, 97 - 11}, {sym: 1}, {18, 127}, {18, 20 - 11}, {sym: 2}, {16, 5 - 3}}
		dynRaw(w, true, 1, 3, syms)
		ll := make([]uint8, 258)
		ll['a'], ll[256], ll[257] = 1, 2, 2
		h := newHuff(ll)
		d := newHuff([]uint8{2, 2, 2, 2})
		h.put(w, 'a')
		h.put(w, 257)
		d.put(w, 0)
		h.put(w, 256)
	}))
	add("code lengths truncated at a run code", wantEOF, []byte{}, func() []byte {
		var w bitWriter
		dynRaw(&w, true, 0, 0, append(plainCL(aLens[:100]), clSym{sym: 18}))
		return w.out // whole bytes only: the run code or its extra bits are cut
	}())

	// --- garbage and bombs in small space ---
	add("all 0xff", wantCorrupt, nil, repeat(0xff, 64))
	add("all 0x00 (stored, LEN 0 with NLEN 0)", wantCorrupt, nil, repeat(0x00, 64))
	add("bomb: 1 literal and 2000 copies of 258", wantOK, repeat('b', 1+2000*258), stream(func(w *bitWriter) {
		toks := []tok{lit('b')}
		for range 2000 {
			toks = append(toks, match(258, 1))
		}
		w.fixed(true, toks)
	}))
	return cs
}

func mustBeAligned(w *bitWriter) {
	if w.n != 0 {
		panic("test stream is not byte-aligned where the case needs it to be")
	}
}

func itoa(i int) string {
	if i < 0 {
		return "-" + itoa(-i)
	}
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestHostileRaw(t *testing.T) {
	for _, c := range hostileCases() {
		t.Run(c.name, func(t *testing.T) {
			r := check(t, rawFormat, c.in)
			ref, ours := r.ref, r.ours
			switch c.want {
			case wantOK:
				if ref.err != nil || !bytes.Equal(ref.out, c.out) {
					t.Errorf("stdlib: %s, output %q; the case expects success with %q (input %x)", ref, trunc(ref.out), trunc(c.out), c.in)
				}
				if ours.err != nil || !bytes.Equal(ours.out, c.out) {
					t.Errorf("ours: %s, output %q; want success with %q (input %x)", ours, trunc(ours.out), trunc(c.out), c.in)
				}
			case wantCorrupt:
				var ce flate.CorruptInputError
				if !errors.As(ref.err, &ce) {
					t.Errorf("stdlib: %s; the case expects a CorruptInputError (input %x)", ref, c.in)
				}
				var oe *inflate.CorruptError
				if !errors.As(ours.err, &oe) {
					t.Errorf("ours: %s; want *inflate.CorruptError (input %x)", ours, c.in)
				} else if oe.Error() == "" {
					t.Errorf("ours: CorruptError with an empty message")
				}
			case wantEOF:
				if !errors.Is(ref.err, io.ErrUnexpectedEOF) {
					t.Errorf("stdlib: %s; the case expects io.ErrUnexpectedEOF (input %x)", ref, c.in)
				}
				if !errors.Is(ours.err, io.ErrUnexpectedEOF) {
					t.Errorf("ours: %s; want io.ErrUnexpectedEOF (input %x)", ours, c.in)
				}
			}
			if c.want != wantOK && c.out != nil && !bytes.HasPrefix(c.out, ours.out) {
				t.Errorf("ours produced %q before failing; want a prefix of %q", trunc(ours.out), trunc(c.out))
			}
		})
	}
}

func trunc(b []byte) []byte {
	if len(b) > 40 {
		return append(b[:40:40], "..."...)
	}
	return b
}
