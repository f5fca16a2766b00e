package inflate_test

// A small, deliberately naive DEFLATE writer used to hand-craft streams:
// valid ones that stress particular decoder paths (long codes, distance
// 32768, overlapping copies, code-length run codes) and hostile ones that
// stdlib's compressors never emit. Nothing here is clever; it is written
// straight from RFC 1951 so that it can be checked by eye.

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
)

// bitWriter packs bits LSB-first, as RFC 1951 section 3.1.1 requires.
type bitWriter struct {
	out []byte
	acc uint64
	n   uint
}

// bits writes the low n bits of v (n <= 32), least significant bit first.
func (w *bitWriter) bits(v uint64, n uint) {
	if n > 32 {
		panic("bitWriter: n > 32")
	}
	v &= 1<<n - 1
	w.acc |= v << w.n
	w.n += n
	for w.n >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.n -= 8
	}
}

// code writes a Huffman code of length n, most significant bit first.
func (w *bitWriter) code(c uint32, n uint) {
	if n == 0 || n > 15 {
		panic(fmt.Sprintf("bitWriter: bad code length %d", n))
	}
	w.bits(uint64(bits.Reverse32(c)>>(32-n)), n)
}

// align pads with fill bits (only the low bits that fit are used) to a byte boundary.
func (w *bitWriter) align(fill uint64) {
	if w.n > 0 {
		w.bits(fill, 8-w.n)
	}
}

func (w *bitWriter) raw(b ...byte) {
	if w.n != 0 {
		panic("bitWriter: raw bytes at a non-byte boundary")
	}
	w.out = append(w.out, b...)
}

// bytes returns the stream so far, the last partial byte zero-padded.
func (w *bitWriter) bytes() []byte {
	out := append([]byte(nil), w.out...)
	if w.n > 0 {
		out = append(out, byte(w.acc))
	}
	return out
}

func (w *bitWriter) header(final bool, typ uint) {
	f := uint64(0)
	if final {
		f = 1
	}
	w.bits(f, 1)
	w.bits(uint64(typ), 2)
}

// stored writes a complete stored block (header, alignment, LEN, NLEN, data).
func (w *bitWriter) stored(final bool, data []byte) {
	if len(data) > 65535 {
		panic("stored block too long")
	}
	w.header(final, 0)
	w.align(0)
	n := len(data)
	w.raw(byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
	w.raw(data...)
}

// huff is a canonical Huffman code given by its code lengths.
type huff struct {
	lens  []uint8
	codes []uint32
}

func newHuff(lens []uint8) huff {
	var count [16]int
	for _, l := range lens {
		if l > 15 {
			panic("code length > 15")
		}
		if l > 0 {
			count[l]++
		}
	}
	var next [16]uint32
	code := uint32(0)
	for b := 1; b <= 15; b++ {
		code = (code + uint32(count[b-1])) << 1
		next[b] = code
	}
	codes := make([]uint32, len(lens))
	for i, l := range lens {
		if l > 0 {
			codes[i] = next[l]
			next[l]++
		}
	}
	return huff{lens: lens, codes: codes}
}

func (h huff) put(w *bitWriter, sym int) {
	if sym >= len(h.lens) || h.lens[sym] == 0 {
		panic(fmt.Sprintf("symbol %d has no code", sym))
	}
	w.code(h.codes[sym], uint(h.lens[sym]))
}

func fixedLitLens() []uint8 {
	l := make([]uint8, 288)
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	return l
}

func fixedDistLens() []uint8 {
	l := make([]uint8, 32)
	for i := range l {
		l[i] = 5
	}
	return l
}

var (
	fixedLit  = newHuff(fixedLitLens())
	fixedDist = newHuff(fixedDistLens())
)

var (
	lengthBase  = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// lengthCode returns the index (symbol-257) of the length code for l.
func lengthCode(l int) int {
	if l < 3 || l > 258 {
		panic(fmt.Sprintf("bad match length %d", l))
	}
	i := len(lengthBase) - 1
	for lengthBase[i] > l {
		i--
	}
	return i
}

func distCode(d int) int {
	if d < 1 || d > 32768 {
		panic(fmt.Sprintf("bad distance %d", d))
	}
	i := len(distBase) - 1
	for distBase[i] > d {
		i--
	}
	return i
}

// tok is a literal (length == 0) or a back-reference.
type tok struct {
	lit    byte
	length int
	dist   int
}

func lit(b byte) tok             { return tok{lit: b} }
func match(length, dist int) tok { return tok{length: length, dist: dist} }

func lits(s string) []tok {
	t := make([]tok, len(s))
	for i := range len(s) {
		t[i] = lit(s[i])
	}
	return t
}

// token encodes one token (no end-of-block) with the given codes.
func (w *bitWriter) token(lh, dh huff, t tok) {
	if t.length == 0 {
		lh.put(w, int(t.lit))
		return
	}
	lc := lengthCode(t.length)
	lh.put(w, 257+lc)
	w.bits(uint64(t.length-lengthBase[lc]), lengthExtra[lc])
	dc := distCode(t.dist)
	dh.put(w, dc)
	w.bits(uint64(t.dist-distBase[dc]), distExtra[dc])
}

// symbols encodes toks and the end-of-block code with the given codes.
func (w *bitWriter) symbols(lh, dh huff, toks []tok) {
	for _, t := range toks {
		w.token(lh, dh, t)
	}
	lh.put(w, 256)
}

func (w *bitWriter) fixed(final bool, toks []tok) {
	w.header(final, 1)
	w.symbols(fixedLit, fixedDist, toks)
}

// clSym is one symbol of the code-length alphabet with its extra bits.
type clSym struct {
	sym   int
	extra uint64
}

var clExtraBits = map[int]uint{16: 2, 17: 3, 18: 7}

var codeOrder = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// dynHeaderRaw writes a dynamic block header with complete control over
// every field: HLIT, HDIST and HCLEN as written (not biased), the
// code-length code lengths (indexed by symbol, written in codeOrder), and the
// code-length symbols. It returns nothing; the caller writes the data part.
func (w *bitWriter) dynHeaderRaw(final bool, hlit, hdist, hclen int, clLens [19]uint8, syms []clSym) {
	w.header(final, 2)
	w.bits(uint64(hlit), 5)
	w.bits(uint64(hdist), 5)
	w.bits(uint64(hclen), 4)
	for i := 0; i < hclen+4; i++ {
		w.bits(uint64(clLens[codeOrder[i]]), 3)
	}
	ch := newHuff(clLens[:])
	for _, s := range syms {
		ch.put(w, s.sym)
		if n := clExtraBits[s.sym]; n > 0 {
			w.bits(s.extra, n)
		}
	}
}

// plainCL encodes code lengths one symbol each (no run codes).
func plainCL(lens ...[]uint8) []clSym {
	var s []clSym
	for _, ls := range lens {
		for _, l := range ls {
			s = append(s, clSym{sym: int(l)})
		}
	}
	return s
}

// rleCL encodes the concatenated code lengths using run codes 16/17/18
// wherever possible; with rng != nil it randomly declines some runs and
// randomly splits runs, to vary the encodings the decoder sees.
func rleCL(all []uint8, rng *rand.Rand) []clSym {
	var s []clSym
	for i := 0; i < len(all); {
		l := all[i]
		run := 1
		for i+run < len(all) && all[i+run] == l {
			run++
		}
		if rng != nil && rng.IntN(4) == 0 {
			run = 1 + rng.IntN(run)
		}
		switch {
		case l == 0 && run >= 11:
			n := min(run, 138)
			s = append(s, clSym{18, uint64(n - 11)})
			i += n
		case l == 0 && run >= 3:
			n := min(run, 10)
			s = append(s, clSym{17, uint64(n - 3)})
			i += n
		case l != 0 && run >= 4:
			s = append(s, clSym{sym: int(l)})
			n := min(run-1, 6)
			s = append(s, clSym{16, uint64(n - 3)})
			i += 1 + n
		default:
			s = append(s, clSym{sym: int(l)})
			i++
		}
	}
	return s
}

// dynHeader writes a valid dynamic header for the given lit/len and distance
// code lengths (len(lit) in 257..286, len(dist) in 1..30).
func (w *bitWriter) dynHeader(final bool, litLens, distLens []uint8, rng *rand.Rand) {
	all := append(append([]uint8(nil), litLens...), distLens...)
	syms := rleCL(all, rng)
	var used []int
	seen := map[int]bool{}
	for _, s := range syms {
		if !seen[s.sym] {
			seen[s.sym] = true
			used = append(used, s.sym)
		}
	}
	var clLens [19]uint8
	var lens []uint8
	if rng != nil {
		lens = randomCodeLens(rng, len(used), 7)
	} else {
		lens = randomCodeLens(rand.New(rand.NewPCG(1, 2)), len(used), 7)
	}
	for i, sym := range used {
		clLens[sym] = lens[i]
	}
	hclen := 19
	for hclen > 4 && clLens[codeOrder[hclen-1]] == 0 {
		hclen--
	}
	w.dynHeaderRaw(final, len(litLens)-257, len(distLens)-1, hclen-4, clLens, syms)
}

func (w *bitWriter) dynamic(final bool, litLens, distLens []uint8, toks []tok, rng *rand.Rand) {
	w.dynHeader(final, litLens, distLens, rng)
	w.symbols(newHuff(litLens), newHuff(distLens), toks)
}

// randomCodeLens returns code lengths (all <= maxLen) of a complete prefix
// code over n symbols, by splitting the symbol set recursively at random.
// Lopsided splits give long codes. n == 1 yields the degenerate single
// one-bit code that zlib emits and inflaters accept.
func randomCodeLens(rng *rand.Rand, n, maxLen int) []uint8 {
	if n <= 0 {
		return nil
	}
	if n > 1<<maxLen {
		panic("too many symbols for maxLen")
	}
	lens := make([]uint8, n)
	if n == 1 {
		lens[0] = 1
		return lens
	}
	var split func(lo, hi, depth int)
	split = func(lo, hi, depth int) {
		n := hi - lo
		if n == 1 {
			lens[lo] = uint8(depth)
			return
		}
		capacity := 1 << (maxLen - depth - 1) // symbols each half can hold
		minA, maxA := max(1, n-capacity), min(n-1, capacity)
		var a int
		switch rng.IntN(3) {
		case 0:
			a = minA // lopsided: long codes on one side
		case 1:
			a = max(minA, min(maxA, n/2))
		default:
			a = minA + rng.IntN(maxA-minA+1)
		}
		split(lo, lo+a, depth+1)
		split(lo+a, hi, depth+1)
	}
	split(0, n, 0)
	rng.Shuffle(n, func(i, j int) { lens[i], lens[j] = lens[j], lens[i] })
	return lens
}

// tokenStream is an LZ77 token list together with the bytes it decodes to.
type tokenStream struct {
	toks []tok
	out  []byte
}

func (s *tokenStream) lit(b byte) {
	s.toks = append(s.toks, lit(b))
	s.out = append(s.out, b)
}

func (s *tokenStream) match(length, dist int) {
	if dist > len(s.out) {
		panic("tokenStream: distance beyond output")
	}
	s.toks = append(s.toks, match(length, dist))
	for range length {
		s.out = append(s.out, s.out[len(s.out)-dist])
	}
}

// randomTokens appends n random tokens to s: literals, short overlapping
// copies (distance 1..9), maximal 258-byte copies, and copies at large and
// maximal (32768) distances when the history allows.
func randomTokens(rng *rand.Rand, s *tokenStream, n int) {
	for range n {
		h := len(s.out)
		switch r := rng.IntN(10); {
		case h == 0 || r < 4:
			s.lit(byte(rng.IntN(256)))
		case r < 6:
			s.match(3+rng.IntN(256), 1+rng.IntN(min(h, 9)))
		case r < 7:
			s.match(258, 1+rng.IntN(min(h, 32768)))
		case r < 8 && h >= 32768:
			s.match(3+rng.IntN(256), 32768-rng.IntN(3))
		default:
			s.match(3+rng.IntN(256), 1+rng.IntN(min(h, 32768)))
		}
	}
}

// usedLens returns random complete code lengths covering exactly the symbols
// that toks use (plus end-of-block), sized to litN/distN entries.
func usedLens(rng *rand.Rand, toks []tok, litN, distN int) (litLens, distLens []uint8) {
	litUsed := map[int]bool{256: true}
	distUsed := map[int]bool{}
	for _, t := range toks {
		if t.length == 0 {
			litUsed[int(t.lit)] = true
		} else {
			litUsed[257+lengthCode(t.length)] = true
			distUsed[distCode(t.dist)] = true
		}
	}
	// Sometimes give codes to unused symbols too.
	if rng.IntN(2) == 0 {
		for range rng.IntN(40) {
			litUsed[rng.IntN(litN)] = true
		}
	}
	litLens = assign(rng, litUsed, litN, 15)
	distLens = assign(rng, distUsed, distN, 15)
	return litLens, distLens
}

func assign(rng *rand.Rand, used map[int]bool, n, maxLen int) []uint8 {
	var syms []int
	for s := range n {
		if used[s] {
			syms = append(syms, s)
		}
	}
	out := make([]uint8, n)
	if len(syms) == 0 {
		return out // empty tree (legal for distances when only literals occur)
	}
	lens := randomCodeLens(rng, len(syms), maxLen)
	for i, s := range syms {
		out[s] = lens[i]
	}
	return out
}

// encodeTokens writes toks as a sequence of blocks of random kinds (fixed,
// dynamic with random codes, and stored blocks for runs of literals).
func encodeTokens(rng *rand.Rand, toks []tok) []byte {
	var w bitWriter
	if len(toks) == 0 {
		w.fixed(true, nil)
	}
	for len(toks) > 0 {
		n := min(len(toks), 1+rng.IntN(5000))
		blk := toks[:n]
		toks = toks[n:]
		final := len(toks) == 0
		switch rng.IntN(3) {
		case 0:
			w.fixed(final, blk)
		default:
			maxLit := 257
			maxDist := 1
			for _, t := range blk {
				if t.length > 0 {
					maxLit = max(maxLit, 257+lengthCode(t.length)+1)
					maxDist = max(maxDist, distCode(t.dist)+1)
				}
			}
			litN := maxLit + rng.IntN(286-maxLit+1)
			distN := maxDist + rng.IntN(30-maxDist+1)
			ll, dl := usedLens(rng, blk, litN, distN)
			w.dynamic(final, ll, dl, blk, rng)
		}
		if !final && rng.IntN(8) == 0 {
			w.stored(false, nil) // a sync point in the middle
		}
	}
	return w.bytes()
}
