package inflate

import "math/bits"

// A decoding table maps the next bits of the stream (read least
// significant bit first, so a table index is a bit-reversed code) to an
// entry. Codes no longer than the table's primary bits are found in one
// lookup; longer ones go through a subtable that the primary entry
// points to.
//
// An entry is a uint32:
//
//	bits  0–4   bits to consume at this level (the code's length, or the
//	            primary bits for a subtable pointer)
//	bit   5     flagSub: a subtable pointer
//	bit   6     flagEnd: the end-of-block code
//	bit   7     flagBad: a code that means nothing (litlen 286–287,
//	            distance 30–31)
//	bits  8–11  extra bits that follow the code (lengths and distances),
//	            or a subtable's index bits
//	bit   15    flagLit: a literal byte
//	bits 16–31  value: the literal byte, the length or distance base, or
//	            a subtable's offset in the table
//
// A length or distance entry has none of the flags. The zero entry
// consumes nothing and has no flags either, so it would read as a length
// or distance of base 0: tables never leave an entry zero. Bit patterns
// no code starts with (the unused half of a one-code code, all of an
// empty one) get flagBad, and decoding one is an error, as it is for the
// reference inflater.
const (
	flagSub = 1 << 5
	flagEnd = 1 << 6
	flagBad = 1 << 7
	flagLit = 1 << 15

	entryBitsMask = 31
	extraShift    = 8
	valueShift    = 16
)

func entry(n, flags, extra, value uint32) uint32 {
	return n | flags | extra<<extraShift | value<<valueShift
}

// Primary table sizes: a litlen lookup resolves any code of up to 10
// bits at once (nearly every literal and length of real data), a
// distance lookup any code of up to 8.
const (
	litlenBits  = 10
	distBits    = 8
	precodeBits = 7
	maxCodeLen  = 15
)

// symbol values: what each symbol of an alphabet decodes to, before the
// code length is known. payload(kind, extra, value) without n.
var (
	litlenSyms  [288]uint32
	distSyms    [32]uint32
	precodeSyms [19]uint32
)

// RFC 1951 section 3.2.5.
var (
	lengthBase  = [29]uint32{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint32{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint32{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint32{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// Table sizes. A complete code of 286 litlen symbols with a 10-bit
// primary table needs at most 1,332 entries and one of 30 distance
// symbols with an 8-bit primary table at most 402 (zlib's enough.c
// counts them); the arrays are powers of two so a masked index needs no
// bounds check.
const (
	litlenTableSize = 2048
	distTableSize   = 512
	precodeSize     = 1 << precodeBits
)

type (
	litlenTable [litlenTableSize]uint32
	distTable   [distTableSize]uint32
)

// The fixed Huffman codes of block type 1 (RFC 1951 section 3.2.6).
var (
	fixedLitlen litlenTable
	fixedDist   distTable
)

func init() {
	for s := range 256 {
		litlenSyms[s] = entry(0, flagLit, 0, uint32(s))
	}
	litlenSyms[256] = entry(0, flagEnd, 0, 0)
	for s := 257; s < 286; s++ {
		litlenSyms[s] = entry(0, 0, lengthExtra[s-257], lengthBase[s-257])
	}
	// 286 and 287 have codes in the fixed block but mean nothing.
	litlenSyms[286] = entry(0, flagBad, 0, 0)
	litlenSyms[287] = litlenSyms[286]
	for s := range 30 {
		distSyms[s] = entry(0, 0, distExtra[s], distBase[s])
	}
	distSyms[30] = entry(0, flagBad, 0, 0)
	distSyms[31] = distSyms[30]
	for s := range 19 {
		precodeSyms[s] = entry(0, flagLit, 0, uint32(s))
	}

	var lens [288]uint8
	for s := range lens {
		switch {
		case s < 144:
			lens[s] = 8
		case s < 256:
			lens[s] = 9
		case s < 280:
			lens[s] = 7
		default:
			lens[s] = 8
		}
	}
	if !buildTable(fixedLitlen[:], lens[:], litlenSyms[:], litlenBits) {
		panic("inflate: fixed litlen code")
	}
	var dl [32]uint8
	for s := range dl {
		dl[s] = 5
	}
	if !buildTable(fixedDist[:], dl[:], distSyms[:], distBits) {
		panic("inflate: fixed distance code")
	}
}

// buildTable fills dst with the decoding table of the canonical Huffman
// code with the given code lengths (0: the symbol has no code). syms
// gives each symbol's entry payload. It reports whether the code is
// acceptable.
//
// A code is accepted on the same terms as Go's compress/flate, so that
// redline never takes a stream the reference rejects or the reverse: it
// must be complete (every bit sequence starts some code), except that a
// code of one symbol of length 1 is allowed (zlib writes such distance
// codes) and a code with no symbols at all is allowed (decoding with it
// fails). The bit patterns no code starts with get flagBad entries.
func buildTable(dst []uint32, lens []uint8, syms []uint32, primary uint) bool {
	var count [maxCodeLen + 1]int
	maxLen := 0
	for _, l := range lens {
		if l > maxCodeLen {
			return false
		}
		count[l]++
		if int(l) > maxLen {
			maxLen = int(l)
		}
	}
	count[0] = 0
	bad := entry(0, flagBad, 0, 0)
	size := 1 << primary
	for i := range size {
		dst[i] = bad
	}
	if maxLen == 0 {
		return true
	}
	// Canonical codes: the first code of each length.
	var next [maxCodeLen + 1]uint32
	code := uint32(0)
	for l := 1; l <= maxLen; l++ {
		code = (code + uint32(count[l-1])) << 1
		next[l] = code
	}
	end := code + uint32(count[maxLen]) // one past the last code of maxLen
	if end != 1<<maxLen && !(end == 1 && maxLen == 1) {
		return false // over-subscribed or incomplete
	}
	// Each symbol's code, bit-reversed: the table index it starts at.
	var revs [len(litlenSyms)]uint32
	for s, l := range lens {
		if l > 0 {
			revs[s] = bits.Reverse32(next[l]) >> (32 - uint(l))
			next[l]++
		}
	}
	// The subtable each long code's primary prefix needs: as many index
	// bits as its longest code has beyond the primary bits.
	if maxLen > int(primary) {
		var subBits [1 << litlenBits]uint8 // by primary prefix; litlenBits is the largest primary
		for s, l := range lens {
			if int(l) <= int(primary) {
				continue
			}
			p := revs[s] & (1<<primary - 1)
			if b := l - uint8(primary); b > subBits[p] {
				subBits[p] = b
			}
		}
		for p := range 1 << primary {
			if b := subBits[p]; b > 0 {
				if size+1<<b > len(dst) {
					return false // more than a complete code can need
				}
				dst[p] = entry(uint32(primary), flagSub, uint32(b), uint32(size))
				size += 1 << b
			}
		}
	}
	for s, l := range lens {
		if l == 0 {
			continue
		}
		rev := revs[s]
		if int(l) <= int(primary) {
			e := syms[s] | uint32(l)
			for i := rev; i < 1<<primary; i += 1 << l {
				dst[i] = e
			}
			continue
		}
		sub := dst[rev&(1<<primary-1)]
		off := sub >> valueShift
		sb := sub >> extraShift & 0xf
		n := uint32(l) - uint32(primary)
		e := syms[s] | n
		for i := rev >> primary; i < 1<<sb; i += 1 << n {
			dst[off+i] = e
		}
	}
	return true
}
