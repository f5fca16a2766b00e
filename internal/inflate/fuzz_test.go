package inflate_test

import (
	"bytes"
	"compress/flate"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// fuzzKeep caps the output compared per input, on both sides, so that a
// decompression bomb costs bounded memory (past it, only the final status
// is compared, by draining at most drainLimit more bytes, and only when the
// two decoders already disagree about where the stream ends).
const fuzzKeep = 8 << 20

var fuzzRawPatterns = []string{"ReadAll", "OneByteReader", "DataErrReader", "Reset-after-error", "exact"}

func rawSeeds() [][]byte {
	var seeds [][]byte
	small := [][]byte{
		nil,
		[]byte("a"),
		[]byte("hello, hello, hello, world"),
		textCorpus(300, 61),
		shortRepeatCorpus(400, 61),
		randomCorpus(100, 61),
	}
	for _, d := range small {
		for _, l := range []int{flate.HuffmanOnly, 0, 1, 5, 9} {
			seeds = append(seeds, stdFlate(d, l))
		}
		seeds = append(seeds, kFlate(d, 3))
	}
	for _, c := range hostileCases() {
		if len(c.in) < 4096 {
			seeds = append(seeds, c.in)
		}
	}
	// Hand-made dynamic blocks with long codes and run-coded lengths.
	for seed := range uint64(4) {
		rng := rand.New(rand.NewPCG(seed, 63))
		var s tokenStream
		randomTokens(rng, &s, 40)
		seeds = append(seeds, encodeTokens(rng, s.toks))
	}
	return seeds
}

func FuzzInflate(f *testing.F) {
	for _, s := range rawSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkWith(t, rawFormat, in, checkOpts{keep: fuzzKeep, patterns: fuzzRawPatterns})
	})
}

var fuzzGzipPatterns = []string{"ReadAll", "OneByteReader", "Reset-after-error"}

func FuzzGunzip(f *testing.F) {
	for _, c := range gzipCases() {
		if len(c.in) < 4096 {
			f.Add(c.in)
		}
	}
	for _, s := range rawSeeds()[:12] {
		f.Add(gzMember([]byte("x"), gzOpts{body: s}))
	}
	f.Add(cat(gzipBytes([]byte("one"), 9), gzipBytes(nil, 1), gzipBytes([]byte("three three three"), 0)))
	f.Add(gzMember(textCorpus(200, 5), gzOpts{name: []byte("n"), comment: []byte("c"), extra: []byte("e"), hcrc: true}))
	// Other compressors' block layouts (zopfli, pigz), to mutate from.
	others, _ := filepath.Glob(filepath.Join("testdata", "*.gz"))
	for _, name := range others {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkWith(t, gzipFormat, in, checkOpts{keep: fuzzKeep, patterns: fuzzGzipPatterns})
	})
}

// FuzzTokens is structure-aware: the seed drives the hand-written encoder
// to build a valid multi-block stream (random fixed and dynamic blocks,
// codes up to 15 bits, run-coded lengths, copies up to distance 32768),
// then edits (pairs of position, XOR mask) corrupt it in a few places, so
// mutations reach deep decoder states that random bytes seldom do.
func FuzzTokens(f *testing.F) {
	f.Add(uint64(1), uint16(100), []byte{})
	f.Add(uint64(2), uint16(3000), []byte{10, 1})
	f.Add(uint64(3), uint16(500), []byte{200, 0x80, 7, 0x10})
	f.Add(uint64(4), uint16(40), []byte{0, 0})
	f.Fuzz(func(t *testing.T, seed uint64, ntok uint16, edits []byte) {
		rng := rand.New(rand.NewPCG(seed, 65))
		var s tokenStream
		if seed%3 == 0 {
			s.out = randomCorpus(32768, seed) // long distances from the start
		}
		pre := s.out
		randomTokens(rng, &s, int(ntok%8192))
		var w bitWriter
		if len(pre) > 0 {
			w.stored(false, pre)
		}
		in := append(w.bytes(), encodeTokens(rng, s.toks)...)
		for i := 0; i+1 < len(edits); i += 2 {
			pos := int(edits[i]) * len(in) / 256
			in[pos] ^= edits[i+1]
		}
		r := checkWith(t, rawFormat, in, checkOpts{keep: fuzzKeep, patterns: fuzzRawPatterns})
		if len(edits) < 2 && (r.ref.err != nil || !bytes.Equal(r.ref.out, s.out)) {
			t.Fatalf("unedited stream: stdlib %s, want %d bytes", r.ref, len(s.out))
		}
	})
}
