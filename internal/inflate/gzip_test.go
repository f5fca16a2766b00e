package inflate_test

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"strings"
	"testing"

	"github.com/redline-go/redline/internal/inflate"
)

// gzOpts describes one hand-built gzip member (RFC 1952).
type gzOpts struct {
	id      []byte // ID1 ID2; nil means 1f 8b
	cm      byte   // 0 means 8
	flg     byte   // FLG bits OR'ed in besides those implied below
	extra   []byte // FEXTRA payload; nil means absent
	name    []byte // FNAME (without the NUL); nil means absent
	comment []byte // FCOMMENT (without the NUL); nil means absent
	hcrc    bool   // FHCRC
	badHCRC bool   // write a wrong header CRC
	body    []byte // raw deflate data; nil means stdFlate(data, 6)
	badCRC  bool
	badSize bool
	cut     int // bytes cut off the end of the member
}

func gzMember(data []byte, o gzOpts) []byte {
	var h []byte
	id := o.id
	if id == nil {
		id = []byte{0x1f, 0x8b}
	}
	cm := o.cm
	if cm == 0 {
		cm = 8
	}
	flg := o.flg
	if o.extra != nil {
		flg |= 1 << 2
	}
	if o.name != nil {
		flg |= 1 << 3
	}
	if o.comment != nil {
		flg |= 1 << 4
	}
	if o.hcrc {
		flg |= 1 << 1
	}
	h = append(h, id...)
	h = append(h, cm, flg, 0x12, 0x34, 0x56, 0x78, 0, 3) // MTIME, XFL, OS
	if o.extra != nil {
		h = binary.LittleEndian.AppendUint16(h, uint16(len(o.extra)))
		h = append(h, o.extra...)
	}
	if o.name != nil {
		h = append(append(h, o.name...), 0)
	}
	if o.comment != nil {
		h = append(append(h, o.comment...), 0)
	}
	if o.hcrc {
		c := uint16(crc32.ChecksumIEEE(h))
		if o.badHCRC {
			c ^= 0x0100
		}
		h = binary.LittleEndian.AppendUint16(h, c)
	}
	body := o.body
	if body == nil {
		body = stdFlate(data, 6)
	}
	m := append(h, body...)
	crc, size := crc32.ChecksumIEEE(data), uint32(len(data))
	if o.badCRC {
		crc ^= 1
	}
	if o.badSize {
		size++
	}
	m = binary.LittleEndian.AppendUint32(m, crc)
	m = binary.LittleEndian.AppendUint32(m, size)
	return m[:len(m)-o.cut]
}

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

type gzWant int

const (
	gzOK       gzWant = iota
	gzHeader          // ErrHeader
	gzChecksum        // ErrChecksum
	gzEOF             // io.ErrUnexpectedEOF
	gzCorrupt         // invalid deflate data
	gzCleanEOF        // io.EOF from the constructor (empty input)
)

func (w gzWant) String() string {
	return [...]string{"ok", "ErrHeader", "ErrChecksum", "unexpected EOF", "corrupt", "io.EOF"}[w]
}

type gzCase struct {
	name string
	in   []byte
	want gzWant
	out  []byte // ok: exact output; else: bound on the output prefix (nil: unchecked)
}

func gzipCases() []gzCase {
	var cs []gzCase
	add := func(name string, want gzWant, out, in []byte) {
		cs = append(cs, gzCase{name, in, want, out})
	}
	d1 := textCorpus(50000, 31)
	d2 := shortRepeatCorpus(30000, 32)
	d3 := []byte("third member")
	m1, m2, m3 := gzMember(d1, gzOpts{}), gzMember(d2, gzOpts{}), gzMember(d3, gzOpts{})
	empty := gzMember(nil, gzOpts{})

	add("empty input", gzCleanEOF, nil, nil)
	add("single member", gzOK, d1, m1)
	add("single empty member", gzOK, []byte{}, empty)
	add("three members", gzOK, cat(d1, d2, d3), cat(m1, m2, m3))
	add("three members, middle one empty", gzOK, cat(d1, d3), cat(m1, empty, m3))
	add("empty members only", gzOK, []byte{}, cat(empty, empty, empty))
	add("stored body", gzOK, d1, gzMember(d1, gzOpts{body: stdFlate(d1, 0)}))
	add("Huffman-only body", gzOK, d2, gzMember(d2, gzOpts{body: stdFlate(d2, flate.HuffmanOnly)}))
	add("klauspost body", gzOK, d1, gzMember(d1, gzOpts{body: kFlate(d1, 3)}))

	// Header fields.
	add("FNAME", gzOK, d3, gzMember(d3, gzOpts{name: []byte("file.tar")}))
	add("FNAME empty", gzOK, d3, gzMember(d3, gzOpts{name: []byte{}}))
	add("FNAME Latin-1", gzOK, d3, gzMember(d3, gzOpts{name: []byte("caf\xe9.txt")}))
	add("FNAME 511 bytes (stdlib's limit)", gzOK, d3, gzMember(d3, gzOpts{name: bytes.Repeat([]byte("n"), 511)}))
	add("FNAME 512 bytes (over stdlib's limit)", gzHeader, []byte{}, gzMember(d3, gzOpts{name: bytes.Repeat([]byte("n"), 512)}))
	add("FNAME 100000 bytes", gzHeader, []byte{}, gzMember(d3, gzOpts{name: bytes.Repeat([]byte("n"), 100000)}))
	add("FCOMMENT", gzOK, d3, gzMember(d3, gzOpts{comment: []byte("a comment")}))
	add("FCOMMENT 511 bytes", gzOK, d3, gzMember(d3, gzOpts{comment: bytes.Repeat([]byte("c"), 511)}))
	add("FCOMMENT 512 bytes", gzHeader, []byte{}, gzMember(d3, gzOpts{comment: bytes.Repeat([]byte("c"), 512)}))
	add("FEXTRA", gzOK, d3, gzMember(d3, gzOpts{extra: []byte("AB\x04\x00data")}))
	add("FEXTRA empty", gzOK, d3, gzMember(d3, gzOpts{extra: []byte{}}))
	add("FEXTRA 65535 bytes", gzOK, d3, gzMember(d3, gzOpts{extra: bytes.Repeat([]byte{0xee}, 65535)}))
	add("FHCRC correct", gzOK, d3, gzMember(d3, gzOpts{hcrc: true}))
	add("FHCRC wrong", gzHeader, []byte{}, gzMember(d3, gzOpts{hcrc: true, badHCRC: true}))
	all := gzOpts{extra: []byte("xx"), name: []byte("n"), comment: []byte("c"), hcrc: true, flg: 1}
	add("all flags, FHCRC correct", gzOK, d3, gzMember(d3, all))
	allBad := all
	allBad.badHCRC = true
	add("all flags, FHCRC wrong", gzHeader, []byte{}, gzMember(d3, allBad))
	add("FHCRC wrong in the second member", gzHeader, d1, cat(m1, gzMember(d3, allBad)))
	// compress/gzip ignores the reserved FLG bits; so must we.
	add("reserved FLG bits set", gzOK, d3, gzMember(d3, gzOpts{flg: 0xe0}))
	add("FTEXT set", gzOK, d3, gzMember(d3, gzOpts{flg: 1}))

	// Bad identification.
	add("bad magic", gzHeader, []byte{}, gzMember(d3, gzOpts{id: []byte{0x1f, 0x8c}}))
	add("bad first magic byte", gzHeader, []byte{}, gzMember(d3, gzOpts{id: []byte{0x1e, 0x8b}}))
	add("CM 7", gzHeader, []byte{}, gzMember(d3, gzOpts{cm: 7}))
	add("CM 9", gzHeader, []byte{}, gzMember(d3, gzOpts{cm: 9}))
	add("raw deflate, not gzip", gzHeader, []byte{}, stdFlate(d1, 6))
	add("plain text", gzHeader, []byte{}, []byte("this is not a gzip file at all"))
	// Fewer than 10 bytes: stdlib's io.ReadFull of the fixed header fails
	// first, whatever the bytes are.
	add("bad magic, 5 bytes", gzEOF, []byte{}, []byte("hello"))
	add("one byte 0x1f", gzEOF, []byte{}, []byte{0x1f})

	// Truncated headers.
	for _, n := range []int{1, 2, 3, 9} {
		add("header truncated to "+itoa(n)+" bytes", gzEOF, []byte{}, m3[:n])
	}
	withExtra := gzMember(d3, gzOpts{extra: []byte("0123456789")})
	add("truncated in XLEN", gzEOF, []byte{}, withExtra[:11])
	add("truncated in FEXTRA data", gzEOF, []byte{}, withExtra[:15])
	withName := gzMember(d3, gzOpts{name: []byte("name.tar")})
	add("truncated in FNAME", gzEOF, []byte{}, withName[:14])
	add("truncated before FNAME's NUL", gzEOF, []byte{}, withName[:18])
	withHCRC := gzMember(d3, gzOpts{hcrc: true})
	add("truncated in FHCRC", gzEOF, []byte{}, withHCRC[:11])
	add("header only", gzEOF, []byte{}, m3[:10])

	// Body and trailer.
	add("deflate body truncated", gzEOF, d1, m1[:len(m1)/2])
	for cut := 1; cut <= 8; cut++ {
		add("trailer truncated by "+itoa(cut), gzEOF, d1, gzMember(d1, gzOpts{cut: cut}))
	}
	add("CRC-32 wrong", gzChecksum, d1, gzMember(d1, gzOpts{badCRC: true}))
	add("ISIZE wrong", gzChecksum, d1, gzMember(d1, gzOpts{badSize: true}))
	add("CRC-32 wrong in an empty member", gzChecksum, []byte{}, gzMember(nil, gzOpts{badCRC: true}))
	add("CRC-32 wrong in the second member", gzChecksum, cat(d1, d2), cat(m1, gzMember(d2, gzOpts{badCRC: true}), m3))
	add("ISIZE wrong in the third member", gzChecksum, cat(d1, d2, d3), cat(m1, m2, gzMember(d3, gzOpts{badSize: true})))
	add("CRC and ISIZE of the two members swapped", gzChecksum, d1, func() []byte {
		a, b := gzMember(d1, gzOpts{}), gzMember(d3, gzOpts{})
		ta, tb := append([]byte(nil), a[len(a)-8:]...), append([]byte(nil), b[len(b)-8:]...)
		copy(a[len(a)-8:], tb)
		copy(b[len(b)-8:], ta)
		return cat(a, b)
	}())
	add("corrupt deflate body", gzCorrupt, []byte{}, gzMember(d3, gzOpts{body: []byte{0x07}}))
	add("second member's first copy reaches into the first member", gzCorrupt, d1, cat(m1,
		gzMember([]byte("xxxx"), gzOpts{body: stream(func(w *bitWriter) { w.fixed(true, []tok{match(4, 1)}) })})))
	add("second member's copy beyond its own output", gzCorrupt, cat(d1, []byte("ab")), cat(m1,
		gzMember([]byte("ababa"), gzOpts{body: stream(func(w *bitWriter) { w.fixed(true, []tok{lit('a'), lit('b'), match(3, 3)}) })})))
	// The trailer is then read as the next deflate block header: here a
	// stored block whose LEN/NLEN do not match.
	add("deflate stream without a final block", gzCorrupt, d3, gzMember(d3, gzOpts{body: stream(func(w *bitWriter) { w.fixed(false, lits(string(d3))) })}))

	// After a member.
	add("garbage after the member (>= 10 bytes)", gzHeader, d1, cat(m1, []byte("GARBAGE-GARBAGE")))
	add("garbage after the second member", gzHeader, cat(d1, d2), cat(m1, m2, []byte("0123456789")))
	add("zero padding after the member (512)", gzHeader, d1, cat(m1, make([]byte, 512)))
	// Fewer than 10 trailing bytes: stdlib fails in io.ReadFull, i.e. with
	// io.ErrUnexpectedEOF, whatever they are.
	add("one garbage byte after the member", gzEOF, d1, cat(m1, []byte{'G'}))
	add("one zero byte after the member", gzEOF, d1, cat(m1, []byte{0}))
	add("9 garbage bytes after the member", gzEOF, d1, cat(m1, []byte("123456789")))
	add("a magic number after the member", gzEOF, d1, cat(m1, []byte{0x1f, 0x8b}))
	add("a header after the member", gzEOF, d1, cat(m1, m3[:10]))
	add("a bad-CM header after the member", gzHeader, d1, cat(m1, gzMember(d3, gzOpts{cm: 3})))
	return cs
}

func TestGzip(t *testing.T) {
	for _, c := range gzipCases() {
		t.Run(c.name, func(t *testing.T) {
			r := check(t, gzipFormat, c.in)
			assertGzip(t, c, r)
		})
	}
}

func assertGzip(t *testing.T, c gzCase, r result) {
	t.Helper()
	ref, ours := r.ref, r.ours
	var refOK, oursOK bool
	switch c.want {
	case gzOK:
		refOK = ref.err == nil && !ref.capped && bytes.Equal(ref.out, c.out)
		oursOK = ours.err == nil && !ours.capped && bytes.Equal(ours.out, c.out)
	case gzHeader:
		refOK = errors.Is(ref.err, gzip.ErrHeader)
		oursOK = errors.Is(ours.err, inflate.ErrHeader)
	case gzChecksum:
		refOK = errors.Is(ref.err, gzip.ErrChecksum)
		oursOK = errors.Is(ours.err, inflate.ErrChecksum)
	case gzEOF:
		refOK = errors.Is(ref.err, io.ErrUnexpectedEOF)
		oursOK = errors.Is(ours.err, io.ErrUnexpectedEOF)
	case gzCorrupt:
		var ce flate.CorruptInputError
		refOK = errors.As(ref.err, &ce)
		var oe *inflate.CorruptError
		oursOK = errors.As(ours.err, &oe)
	case gzCleanEOF:
		refOK = ref.err == io.EOF
		oursOK = ours.err == io.EOF
	}
	if !refOK {
		t.Errorf("stdlib: %s; the case expects %s (input %s)", ref, c.want, hexHead(c.in, 64))
	}
	if !oursOK {
		t.Errorf("ours: %s; want %s (input %s)", ours, c.want, hexHead(c.in, 64))
	}
	if c.want != gzOK && c.out != nil && !bytes.HasPrefix(c.out, ours.out) {
		t.Errorf("ours produced %d bytes before failing that are not a prefix of the expected %d", len(ours.out), len(c.out))
	}
}

// TestGzipHostileRaw wraps each hostile raw deflate stream in a gzip member
// (with the CRC of stdlib's raw output, when it has one) and compares.
func TestGzipHostileRaw(t *testing.T) {
	for _, c := range hostileCases() {
		out, _ := io.ReadAll(flate.NewReader(bytes.NewReader(c.in)))
		in := gzMember(out, gzOpts{body: c.in})
		r := check(t, gzipFormat, in)
		// Bytes after the final block (two of the cases) land where the
		// trailer is expected, so those are not valid gzip files.
		tail := strings.Contains(c.name, "after the final block")
		if c.want == wantOK && !tail && (r.ours.err != nil || !bytes.Equal(r.ours.out, c.out)) {
			t.Errorf("%s: ours %s", c.name, r.ours)
		}
		if c.want == wantCorrupt && r.ours.err == nil {
			t.Errorf("%s: ours succeeds", c.name)
		}
	}
}

// TestGzipTruncations cuts a multi-member file at every length.
func TestGzipTruncations(t *testing.T) {
	in := cat(
		gzMember([]byte("first member, first member"), gzOpts{name: []byte("a"), hcrc: true}),
		gzMember(nil, gzOpts{}),
		gzMember([]byte(strings.Repeat("second ", 40)), gzOpts{extra: []byte("EX"), comment: []byte("c")}),
	)
	for cut := 1; cut < len(in); cut++ {
		r := checkWith(t, gzipFormat, in[:cut], checkOpts{patterns: []string{"ReadAll", "OneByteReader", "DataErrReader", "Reset-after-error"}})
		// Cuts at member boundaries are complete files.
		if r.ref.err != nil && !errors.Is(r.ref.err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut %d: stdlib %s", cut, r.ref)
		}
		if t.Failed() {
			t.FailNow()
		}
	}
}

func TestGzipBitFlips(t *testing.T) {
	in := cat(gzMember([]byte("hello gzip, hello gzip"), gzOpts{name: []byte("x"), hcrc: true}),
		gzMember(textCorpus(300, 3), gzOpts{}))
	for bit := 0; bit < len(in)*8; bit++ {
		c := append([]byte(nil), in...)
		c[bit/8] ^= 1 << (bit % 8)
		checkWith(t, gzipFormat, c, checkOpts{patterns: []string{"ReadAll", "OneByteReader"}})
		if t.Failed() {
			t.Fatalf("bit %d flipped: input %x", bit, c)
		}
	}
}

func TestGzipLargeMultistream(t *testing.T) {
	a, b := mixedCorpus(3<<20, 41), binaryCorpus(2<<20)
	in := cat(gzipBytes(a, 1), gzipBytes(nil, 6), gzipBytes(b, 6), gzipBytes(a[:1<<20], 9))
	want := cat(a, b, a[:1<<20])
	r := checkWith(t, gzipFormat, in, checkOpts{patterns: []string{"ReadAll", "1-byte-reads", "OneByteReader", "bufio16", "Reset-after-ok"}})
	if r.ref.err != nil || !bytes.Equal(r.ref.out, want) {
		t.Fatalf("stdlib: %s", r.ref)
	}
	if r.ours.err != nil || !bytes.Equal(r.ours.out, want) {
		t.Fatalf("ours: %s", r.ours)
	}
}

func TestGzipReset(t *testing.T) {
	d1, d2 := textCorpus(70000, 51), randomCorpus(40000, 51)
	g1, g2 := gzipBytes(d1, 6), cat(gzipBytes(d2, 1), gzipBytes(d1, 9))

	if z, err := inflate.NewGzipReader(bytes.NewReader(nil)); err != io.EOF || z != nil {
		t.Errorf("NewGzipReader(empty) = %v, %v; want nil, io.EOF", z, err)
	}
	z, err := inflate.NewGzipReader(bytes.NewReader(g1))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		in       []byte
		want     []byte
		resetErr error // expected from Reset
		ok       bool
	}{
		{g1, d1, nil, true},
		{g2, cat(d2, d1), nil, true},
		{g1[:len(g1)/2], d1, nil, false},
		{g1, d1, nil, true},
		{nil, nil, io.EOF, false},
		{g2, cat(d2, d1), nil, true},
		{[]byte("not gzip data at all"), nil, inflate.ErrHeader, false},
		{g1, d1, nil, true},
		{gzMember(d1, gzOpts{badCRC: true}), d1, nil, false},
		{g2, cat(d2, d1), nil, true},
		{cat(g1, []byte("trailing garbage")), d1, nil, false},
		{g1, d1, nil, true},
	}
	for i, s := range steps {
		if i > 0 {
			err := z.Reset(bytes.NewReader(s.in))
			if err != s.resetErr {
				t.Errorf("step %d: Reset = %v, want %v", i, err, s.resetErr)
			}
			if err != nil {
				continue
			}
		}
		got, err := io.ReadAll(z)
		if s.ok && (err != nil || !bytes.Equal(got, s.want)) {
			t.Errorf("step %d: got %d bytes, err %v; want %d bytes", i, len(got), err, len(s.want))
		}
		if !s.ok && (err == nil || !bytes.HasPrefix(s.want, got)) {
			t.Errorf("step %d: got %d bytes, err %v; want an error and a prefix", i, len(got), err)
		}
	}
}
