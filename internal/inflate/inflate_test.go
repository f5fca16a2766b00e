package inflate_test

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	kflate "github.com/klauspost/compress/flate"

	"github.com/redline-go/redline/internal/inflate"
)

// The contract under test: for every input, our decoder agrees with the
// standard library's sequential inflater. Either both succeed with identical
// output, or both fail; when both fail, what each returned before failing is
// a prefix of the other's, and where stdlib reports io.ErrUnexpectedEOF
// (truncated input) so do we.

type format int

const (
	rawFormat format = iota
	gzipFormat
)

func (f format) String() string {
	if f == gzipFormat {
		return "gzip"
	}
	return "raw"
}

const (
	// keepLimit bounds the output kept from each decoder; past it only the
	// final status (success or failure) is compared, by draining.
	defaultKeep = 64 << 20
	// drainLimit bounds how far a decoder is drained to learn its final status.
	drainLimit = 64 << 20
)

// laxEOF relaxes only the "ErrUnexpectedEOF where stdlib says so" rule, so a
// fuzzing run can look past a known error-kind difference for content ones.
var laxEOF = os.Getenv("INFLATE_LAX_EOF") != ""

// outcome is what one decoder did with one input.
type outcome struct {
	out    []byte // first keep bytes of output
	capped bool   // produced more than keep bytes without finishing; out holds keep bytes
	err    error  // final error when !capped (nil: clean io.EOF)
	r      io.Reader
	// bad records a violation of io.Reader conventions seen while reading.
	bad string
}

func (o outcome) String() string {
	if o.capped {
		return fmt.Sprintf(">%d bytes (capped)", len(o.out))
	}
	return fmt.Sprintf("%d bytes, err=%v", len(o.out), o.err)
}

var scratchPool = sync.Pool{New: func() any { b := make([]byte, 1<<17+1); return &b }}

// readLoop reads r to the end or until it produced more than keep bytes,
// asking for size(len(out)) bytes per Read.
func readLoop(r io.Reader, keep int, size func(done int) int) outcome {
	o := outcome{r: r}
	sp := scratchPool.Get().(*[]byte)
	defer scratchPool.Put(sp)
	scratch := *sp
	zeros := 0
	for {
		n := min(size(len(o.out)), len(scratch))
		n = min(n, keep+1-len(o.out))
		p := scratch[:n]
		k, err := r.Read(p)
		if k < 0 || k > n {
			o.bad = fmt.Sprintf("Read(len %d) returned n=%d", n, k)
			o.err = errors.New(o.bad)
			return o
		}
		o.out = append(o.out, p[:k]...)
		if len(o.out) > keep {
			o.out = o.out[:keep]
			o.capped = true
			return o
		}
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			o.err = err
			// A second Read after the end must not produce data, and after a
			// failure it must fail again.
			k2, err2 := r.Read(scratch[:64])
			switch {
			case k2 != 0:
				o.bad = fmt.Sprintf("Read after %v returned %d more bytes", errOrEOF(err), k2)
			case err == nil && err2 != io.EOF:
				o.bad = fmt.Sprintf("Read after io.EOF returned err=%v", err2)
			case err != nil && err2 == nil:
				o.bad = fmt.Sprintf("Read after error %v returned nil error", err)
			}
			return o
		}
		if k == 0 {
			if zeros++; zeros > 100 {
				o.bad = "100 consecutive Reads returned (0, nil)"
				o.err = errors.New(o.bad)
				return o
			}
		} else {
			zeros = 0
		}
	}
}

func errOrEOF(err error) error {
	if err == nil {
		return io.EOF
	}
	return err
}

// drain reads on past keep to learn the final status. done is false if the
// decoder was still producing output after drainLimit more bytes.
func drain(r io.Reader) (err error, done bool) {
	n, err := io.Copy(io.Discard, io.LimitReader(r, drainLimit))
	if err != nil {
		return err, true
	}
	if n < drainLimit {
		return nil, true
	}
	// Exactly at the limit: one more byte tells.
	var b [1]byte
	k, err := io.ReadFull(r, b[:])
	if k == 0 && err == io.EOF {
		return nil, true
	}
	if err != nil && err != io.EOF {
		return err, true
	}
	return nil, false
}

func bigReads(int) int { return 32 << 10 }

func refOpen(f format, r io.Reader) (io.Reader, error) {
	if f == gzipFormat {
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, err
		}
		return z, nil
	}
	return flate.NewReader(r), nil
}

func oursOpen(f format, r io.Reader) (io.Reader, error) {
	if f == gzipFormat {
		z, err := inflate.NewGzipReader(r)
		if err != nil {
			if z != nil {
				return nil, fmt.Errorf("NewGzipReader returned a reader and error %w", err)
			}
			return nil, err
		}
		return z, nil
	}
	return inflate.NewReader(r), nil
}

func decodeWith(open func(io.Reader) (io.Reader, error), src io.Reader, keep int, size func(int) int) outcome {
	r, err := open(src)
	if err != nil {
		return outcome{err: err}
	}
	return readLoop(r, keep, size)
}

// Priming streams for the Reset patterns: a decoder that has filled its
// window with unrelated data (or has stopped mid-block on an error) is Reset
// onto the input. State leaking across Reset (window contents, a pending
// copy, a sticky error, bit buffer) shows up as a mismatch.
var primeOnce = sync.OnceValues(func() (raw, gz []byte) {
	data := append(textCorpus(40000, 99), randomCorpus(40000, 99)...)
	data = append(data, textCorpus(40000, 98)...)
	return stdFlate(data, 6), gzipBytes(data, 6)
})

// corruptPrime fails mid-block (distance code 30) with a copy just done and
// the window full of random bytes.
var corruptPrime = sync.OnceValues(func() (raw, gz []byte) {
	pre := randomCorpus(40000, 97)
	raw = stream(func(w *bitWriter) {
		w.stored(false, pre)
		w.header(true, 1)
		for _, t := range []tok{lit('a'), lit('b'), match(258, 1), match(100, 30000)} {
			w.token(fixedLit, fixedDist, t)
		}
		fixedLit.put(w, 257)
		fixedDist.put(w, 30)
		w.bits(0, 32)
	})
	return raw, gzMember(pre, gzOpts{body: raw})
})

func primedOurs(f format, prime []byte) func(io.Reader) (io.Reader, error) {
	return func(src io.Reader) (io.Reader, error) {
		if f == gzipFormat {
			z, err := inflate.NewGzipReader(bytes.NewReader(prime))
			if err != nil && len(prime) > 0 {
				return nil, fmt.Errorf("priming NewGzipReader: %w", err)
			}
			if z == nil {
				return nil, errors.New("priming NewGzipReader returned nil")
			}
			io.Copy(io.Discard, z)
			if err := z.Reset(src); err != nil {
				return nil, err
			}
			return z, nil
		}
		z := inflate.NewReader(bytes.NewReader(prime))
		io.Copy(io.Discard, z)
		z.Reset(src)
		return z, nil
	}
}

type readPattern struct {
	name string
	src  func([]byte) io.Reader
	size func(done int) int
	// open overrides how ours is opened (Reset patterns).
	open func(f format) func(io.Reader) (io.Reader, error)
}

func byteReader(b []byte) io.Reader { return bytes.NewReader(b) }

// rampSize reads one byte at a time for the first 256 KiB of output, then
// in varying sizes, so that 1-byte Reads are exercised without making
// multi-megabyte streams quadratic in test time.
func rampSize(done int) int {
	if done < 256<<10 {
		return 1
	}
	return 1 + (done*7919)%70000
}

func oddSizes(done int) int { return 1 + (done*31)%4099 }

var patterns = []readPattern{
	{name: "ReadAll", src: byteReader},
	{name: "1-byte-reads", src: byteReader, size: rampSize},
	{name: "OneByteReader", src: func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }, size: oddSizes},
	{name: "HalfReader", src: func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) }, size: bigReads},
	{name: "DataErrReader", src: func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) }, size: oddSizes},
	{name: "bufio16", src: func(b []byte) io.Reader { return bufio.NewReaderSize(iotest.HalfReader(bytes.NewReader(b)), 16) }, size: bigReads},
	{name: "Reset-after-ok", src: byteReader, size: bigReads, open: func(f format) func(io.Reader) (io.Reader, error) {
		raw, gz := primeOnce()
		if f == gzipFormat {
			return primedOurs(f, gz)
		}
		return primedOurs(f, raw)
	}},
	{name: "Reset-after-error", src: byteReader, size: oddSizes, open: func(f format) func(io.Reader) (io.Reader, error) {
		raw, gz := corruptPrime()
		if f == gzipFormat {
			return primedOurs(f, gz)
		}
		return primedOurs(f, raw)
	}},
	{name: "Reset-after-EOF", src: byteReader, size: bigReads, open: func(f format) func(io.Reader) (io.Reader, error) {
		raw, gz := primeOnce()
		if f == gzipFormat {
			return primedOurs(f, gz[:len(gz)*2/3])
		}
		return primedOurs(f, raw[:len(raw)*2/3])
	}},
}

// checkOpts tunes check for an input.
type checkOpts struct {
	keep     int      // output kept and compared byte for byte (default defaultKeep)
	patterns []string // names of patterns to run; nil means all
}

// result is returned by check so callers can assert the expected outcome.
type result struct {
	ref, ours outcome
}

// check decodes in with stdlib and with ours (under every read pattern) and
// reports any disagreement. It returns stdlib's outcome and ours (ReadAll).
func check(t testing.TB, f format, in []byte) result {
	t.Helper()
	return checkWith(t, f, in, checkOpts{})
}

func checkWith(t testing.TB, f format, in []byte, opts checkOpts) result {
	t.Helper()
	keep := opts.keep
	if keep == 0 {
		keep = defaultKeep
	}
	ref := decodeWith(func(r io.Reader) (io.Reader, error) { return refOpen(f, r) }, bytes.NewReader(in), keep, bigReads)
	var refFinal *struct {
		err  error
		done bool
	}
	final := func() (error, bool) {
		if refFinal == nil {
			refFinal = new(struct {
				err  error
				done bool
			})
			if ref.capped {
				refFinal.err, refFinal.done = drain(ref.r)
			} else {
				refFinal.err, refFinal.done = ref.err, true
			}
		}
		return refFinal.err, refFinal.done
	}

	var res result
	res.ref = ref
	for i, p := range patterns {
		if opts.patterns != nil && !contains(opts.patterns, p.name) {
			continue
		}
		open := func(r io.Reader) (io.Reader, error) { return oursOpen(f, r) }
		if p.open != nil {
			open = p.open(f)
		}
		var got outcome
		if p.size == nil {
			got = readAllPattern(open, p.src(in), keep)
		} else {
			got = decodeWith(open, p.src(in), keep, p.size)
		}
		if i == 0 {
			res.ours = got
		}
		if msg := compare(ref, got, final); msg != "" {
			t.Errorf("%s %s: %s\n  input (%d bytes): %s", f, p.name, msg, len(in), hexHead(in, 256))
		}
	}
	if f == rawFormat && !ref.capped && ref.err == nil && (opts.patterns == nil || contains(opts.patterns, "exact")) {
		checkExactConsumption(t, in, ref.out)
	}
	return res
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// readAllPattern is the io.ReadAll read pattern.
func readAllPattern(open func(io.Reader) (io.Reader, error), src io.Reader, keep int) outcome {
	r, err := open(src)
	if err != nil {
		return outcome{err: err}
	}
	out, err := io.ReadAll(io.LimitReader(r, int64(keep)+1))
	o := outcome{out: out, err: err, r: r}
	if len(out) > keep {
		o.out, o.capped, o.err = out[:keep], true, nil
		return o
	}
	if err == nil && len(out) <= keep {
		// io.ReadAll hides whether the limit or the stream ended it; len <= keep
		// means the stream ended. Check a Read after the end.
		var b [16]byte
		if k, err2 := r.Read(b[:]); k != 0 || err2 != io.EOF {
			o.bad = fmt.Sprintf("Read after io.EOF returned (%d, %v)", k, err2)
		}
	}
	return o
}

// compare applies the contract to stdlib's outcome and ours. It returns ""
// when they agree.
func compare(ref, got outcome, refFinal func() (error, bool)) string {
	if got.bad != "" {
		return "io.Reader misbehaviour: " + got.bad
	}
	n := min(len(ref.out), len(got.out))
	if i := firstDiff(ref.out[:n], got.out[:n]); i >= 0 {
		return fmt.Sprintf("output differs at offset %d (ours %s, stdlib %s)\n  ours   %s\n  stdlib %s",
			i, got, ref, hexAround(got.out, i), hexAround(ref.out, i))
	}
	eofRule := func(refErr, gotErr error) string {
		if errors.Is(refErr, io.ErrUnexpectedEOF) && !errors.Is(gotErr, io.ErrUnexpectedEOF) && !laxEOF {
			return fmt.Sprintf("stdlib reports truncation (%v) but ours reports %v (ours %s, stdlib %s)", refErr, gotErr, got, ref)
		}
		return ""
	}
	switch {
	case ref.capped && got.capped:
		return "" // identical for the first keep bytes; both are still going
	case !ref.capped && !got.capped:
		if ref.err == nil {
			if got.err != nil {
				return fmt.Sprintf("stdlib succeeds (%s) but ours fails: %v after %d bytes", ref, got.err, len(got.out))
			}
			if len(got.out) != len(ref.out) {
				return fmt.Sprintf("both succeed but lengths differ: ours %d, stdlib %d", len(got.out), len(ref.out))
			}
			return ""
		}
		if got.err == nil {
			return fmt.Sprintf("stdlib fails (%s) but ours succeeds with %d bytes", ref, len(got.out))
		}
		return eofRule(ref.err, got.err)
	case ref.capped: // ours finished within keep, stdlib went past it
		if got.err == nil {
			return fmt.Sprintf("ours ends cleanly after %d bytes but stdlib produces more than %d", len(got.out), len(ref.out))
		}
		rerr, done := refFinal()
		if !done {
			return fmt.Sprintf("ours fails (%v) after %d bytes; stdlib still producing output %d bytes later", got.err, len(got.out), drainLimit)
		}
		if rerr == nil {
			return fmt.Sprintf("ours fails (%v) after %d bytes; stdlib succeeds after more than %d", got.err, len(got.out), len(ref.out))
		}
		return eofRule(rerr, got.err)
	default: // ours went past keep, stdlib finished within it
		if ref.err == nil {
			return fmt.Sprintf("ours produces more than %d bytes; stdlib ends cleanly at %d", len(got.out), len(ref.out))
		}
		gerr, done := drain(got.r)
		if !done || gerr == nil {
			return fmt.Sprintf("stdlib fails (%s) but ours produces more than %d bytes and ends with %v (done=%v)", ref, len(got.out), gerr, done)
		}
		return eofRule(ref.err, gerr)
	}
}

func firstDiff(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return len(a)
}

func hexHead(b []byte, n int) string {
	if len(b) <= n {
		return fmt.Sprintf("%x", b)
	}
	return fmt.Sprintf("%x... (truncated)", b[:n])
}

func hexAround(b []byte, i int) string {
	lo, hi := max(0, i-8), min(len(b), i+8)
	return fmt.Sprintf("[%d:%d] %x", lo, hi, b[lo:hi])
}

// checkExactConsumption: decoding a raw stream from a *bufio.Reader must
// leave exactly the bytes after the stream in it, as compress/flate does.
func checkExactConsumption(t testing.TB, in, want []byte) {
	t.Helper()
	trailer := []byte("\x00TRAILER\xff\x01 after the deflate stream")
	full := append(append([]byte(nil), in...), trailer...)

	br := bufio.NewReaderSize(bytes.NewReader(full), 16)
	if _, err := io.Copy(io.Discard, flate.NewReader(br)); err != nil {
		t.Fatalf("stdlib fails with trailer appended: %v", err)
	}
	wantRest, _ := io.ReadAll(br)

	srcs := []struct {
		name string
		br   func() *bufio.Reader
	}{
		{"bufio16", func() *bufio.Reader { return bufio.NewReaderSize(bytes.NewReader(full), 16) }},
		{"bufio4096-OneByteReader", func() *bufio.Reader {
			return bufio.NewReaderSize(iotest.OneByteReader(bytes.NewReader(full)), 4096)
		}},
		{"bufio64K-HalfReader", func() *bufio.Reader {
			return bufio.NewReaderSize(iotest.HalfReader(bytes.NewReader(full)), 64<<10)
		}},
		{"bufio-full", func() *bufio.Reader { return bufio.NewReaderSize(bytes.NewReader(full), len(full)+16) }},
	}
	if len(want) > 1<<20 {
		srcs = srcs[:2] // large streams: the two most demanding sources
	}
	for _, s := range srcs {
		br := s.br()
		var buf bytes.Buffer
		buf.Grow(len(want) + 512)
		_, err := buf.ReadFrom(inflate.NewReader(br))
		got := buf.Bytes()
		if err != nil {
			t.Errorf("exact consumption %s: ours fails with trailer appended: %v", s.name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("exact consumption %s: output differs with trailer appended (%d vs %d bytes)", s.name, len(got), len(want))
			continue
		}
		rest, _ := io.ReadAll(br)
		if !bytes.Equal(rest, wantRest) {
			t.Errorf("exact consumption %s: bufio.Reader left %d bytes after the stream, want %d\n  got  %s\n  want %s\n  input: %s",
				s.name, len(rest), len(wantRest), hexHead(rest, 64), hexHead(wantRest, 64), hexHead(in, 128))
		}
	}
}

// ---- corpora ----

var words = strings.Fields(`the quick brown fox jumps over lazy dog image layer
	package version vulnerability manifest digest sha256 config json tar gzip deflate
	redline scan report module require replace indirect go sum license MIT Apache-2.0
	func return if else for range var const type struct interface error nil true false
	a an of to in is it that with as on by at from this be or are was not`)

func textCorpus(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[rng.IntN(len(words))])
		switch rng.IntN(12) {
		case 0:
			b.WriteString(".\n")
		case 1:
			fmt.Fprintf(&b, " %d ", rng.IntN(100000))
		default:
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}

func randomCorpus(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// binaryCorpus returns up to n bytes of a real Go binary (the test binary
// itself, or the go command), falling back to synthetic data.
func binaryCorpus(n int) []byte {
	var paths []string
	if exe, err := os.Executable(); err == nil {
		paths = append(paths, exe)
	}
	paths = append(paths, filepath.Join(runtime.GOROOT(), "bin", "go"), "/usr/local/go/bin/go")
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(f, int64(n)))
		f.Close()
		if err == nil && len(b) >= n/2 {
			return b
		}
	}
	// Synthetic stand-in: text with embedded little-endian integers.
	out := textCorpus(n, 7)
	for i := 0; i+8 <= len(out); i += 64 {
		v := uint64(i) * 0x9e3779b97f4a7c15
		for j := range 8 {
			out[i+j] = byte(v >> (8 * j))
		}
	}
	return out
}

// shortRepeats: runs of a 1..9-byte pattern, so encoders emit overlapping
// copies with distance < length.
func shortRepeatCorpus(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 3))
	var b []byte
	for len(b) < n {
		d := 1 + rng.IntN(9)
		pat := make([]byte, d)
		for i := range pat {
			pat[i] = byte(rng.IntN(256))
		}
		run := 3 + rng.IntN(700)
		for i := range run {
			b = append(b, pat[i%d])
		}
		b = append(b, byte(rng.IntN(256)))
	}
	return b[:n]
}

// longMatches: random 300..1000-byte chunks each repeated, so encoders emit
// maximal 258-byte matches.
func longMatchCorpus(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 4))
	var b []byte
	for len(b) < n {
		c := make([]byte, 300+rng.IntN(700))
		for i := range c {
			c[i] = byte(rng.Uint32())
		}
		for range 1 + rng.IntN(4) {
			b = append(b, c...)
		}
	}
	return b[:n]
}

// dist32KCorpus: a random 32 KiB block repeated, so the only matches are at
// distance exactly 32768 (or multiples, which encoders must express as
// 32768).
func dist32KCorpus(n int, seed uint64) []byte {
	blk := randomCorpus(32768, seed)
	b := make([]byte, 0, n+32768)
	for len(b) < n {
		b = append(b, blk...)
	}
	return b[:n]
}

func mixedCorpus(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 5))
	bin := binaryCorpus(4 << 20)
	var b []byte
	for len(b) < n {
		k := 1 + rng.IntN(200<<10)
		switch rng.IntN(6) {
		case 0:
			b = append(b, textCorpus(k, rng.Uint64())...)
		case 1:
			b = append(b, randomCorpus(min(k, 20000), rng.Uint64())...)
		case 2:
			off := rng.IntN(len(bin))
			b = append(b, bin[off:min(len(bin), off+k)]...)
		case 3:
			b = append(b, make([]byte, min(k, 100000))...)
		case 4:
			b = append(b, shortRepeatCorpus(k, rng.Uint64())...)
		default:
			b = append(b, longMatchCorpus(k, rng.Uint64())...)
		}
	}
	return b[:n]
}

type corpus struct {
	name string
	data []byte
}

func smallCorpora() []corpus {
	return []corpus{
		{"empty", nil},
		{"one-byte", []byte{'x'}},
		{"text", textCorpus(100<<10, 1)},
		{"random", randomCorpus(70<<10, 1)},
		{"binary", binaryCorpus(300 << 10)},
		{"zeros", make([]byte, 200<<10)},
		{"short-repeats", shortRepeatCorpus(150<<10, 1)},
		{"long-matches", longMatchCorpus(150<<10, 1)},
		{"dist-32768", dist32KCorpus(140<<10, 1)},
	}
}

// ---- compressors ----

func stdFlate(data []byte, level int) []byte {
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, level)
	if err != nil {
		panic(err)
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func kFlate(data []byte, level int) []byte {
	var b bytes.Buffer
	w, err := kflate.NewWriter(&b, level)
	if err != nil {
		panic(err)
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func gzipBytes(data []byte, level int) []byte {
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, level)
	if err != nil {
		panic(err)
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

type compressor struct {
	name string
	fn   func([]byte) []byte
}

func compressors() []compressor {
	var cs []compressor
	for _, l := range []int{flate.HuffmanOnly, flate.NoCompression, flate.BestSpeed, 5, flate.BestCompression} {
		cs = append(cs, compressor{fmt.Sprintf("std%d", l), func(b []byte) []byte { return stdFlate(b, l) }})
	}
	for _, l := range []int{kflate.HuffmanOnly, 1, 2, 3, 4, 5, 6, 7, 9} {
		cs = append(cs, compressor{fmt.Sprintf("klauspost%d", l), func(b []byte) []byte { return kFlate(b, l) }})
	}
	cs = append(cs,
		compressor{"klauspost-stateless", func(b []byte) []byte {
			var buf bytes.Buffer
			w := kflate.NewStatelessWriter(&buf)
			// Stateless writes each call independently; feed it in pieces.
			for len(b) > 0 {
				n := min(len(b), 10000)
				w.Write(b[:n])
				b = b[n:]
			}
			w.Close()
			return buf.Bytes()
		}},
		compressor{"klauspost-window1K", func(b []byte) []byte {
			var buf bytes.Buffer
			w, err := kflate.NewWriterWindow(&buf, 1024)
			if err != nil {
				panic(err)
			}
			w.Write(b)
			w.Close()
			return buf.Bytes()
		}},
	)
	return cs
}

// ---- tests ----

func TestCorpora(t *testing.T) {
	for _, c := range smallCorpora() {
		for _, comp := range compressors() {
			t.Run(c.name+"/"+comp.name, func(t *testing.T) {
				in := comp.fn(c.data)
				r := check(t, rawFormat, in)
				if r.ref.err != nil || r.ref.capped || !bytes.Equal(r.ref.out, c.data) {
					t.Fatalf("stdlib does not round-trip: %s", r.ref)
				}
				if r.ours.err != nil || !bytes.Equal(r.ours.out, c.data) {
					t.Fatalf("ours does not round-trip: %s", r.ours)
				}
			})
		}
	}
}

// flushStreams writes data in chunks with Flush between them: sync points
// (empty stored blocks) mid-stream, several in a row, and at the very start.
func TestFlushStreams(t *testing.T) {
	data := append(textCorpus(60<<10, 3), shortRepeatCorpus(30<<10, 3)...)
	type writer interface {
		io.WriteCloser
		Flush() error
	}
	mk := map[string]func(io.Writer) writer{
		"std1":       func(w io.Writer) writer { z, _ := flate.NewWriter(w, 1); return z },
		"std9":       func(w io.Writer) writer { z, _ := flate.NewWriter(w, 9); return z },
		"std0":       func(w io.Writer) writer { z, _ := flate.NewWriter(w, 0); return z },
		"stdHuffman": func(w io.Writer) writer { z, _ := flate.NewWriter(w, flate.HuffmanOnly); return z },
		"klauspost5": func(w io.Writer) writer { z, _ := kflate.NewWriter(w, 5); return z },
		"klauspost1": func(w io.Writer) writer { z, _ := kflate.NewWriter(w, 1); return z },
	}
	for name, newW := range mk {
		for _, chunk := range []int{1, 7, 1000, 33000} {
			t.Run(fmt.Sprintf("%s/chunk%d", name, chunk), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(chunk), 9))
				var b bytes.Buffer
				w := newW(&b)
				w.Flush() // sync point before any data
				w.Flush()
				d := data
				if chunk == 1 {
					d = d[:5000]
				}
				want := d
				for len(d) > 0 {
					n := min(len(d), chunk)
					w.Write(d[:n])
					d = d[n:]
					for range rng.IntN(3) {
						w.Flush()
					}
				}
				w.Flush()
				w.Close()
				r := check(t, rawFormat, b.Bytes())
				if r.ref.err != nil || !bytes.Equal(r.ref.out, want) {
					t.Fatalf("stdlib does not round-trip: %s", r.ref)
				}
			})
		}
	}
	// Nothing but sync points and the final block.
	for name, newW := range mk {
		var b bytes.Buffer
		w := newW(&b)
		w.Flush()
		w.Flush()
		w.Close()
		r := check(t, rawFormat, b.Bytes())
		if r.ours.err != nil || len(r.ours.out) != 0 {
			t.Errorf("%s: empty flushed stream: ours %s", name, r.ours)
		}
	}
}

// TestTokenStreams decodes streams from the hand-written encoder: random
// fixed and dynamic blocks (random complete codes up to 15 bits, run-length
// coded code lengths) carrying overlapping copies, 258-byte copies and
// distance-32768 copies. The encoder's own idea of the output is a second
// oracle besides stdlib.
func TestTokenStreams(t *testing.T) {
	for seed := range uint64(16) {
		rng := rand.New(rand.NewPCG(seed, 77))
		var s tokenStream
		// Start with a stored prefix so long distances are available early.
		pre := randomCorpus(32768+rng.IntN(3), seed)
		s.out = append(s.out, pre...)
		randomTokens(rng, &s, 2000+rng.IntN(20000))
		var w bitWriter
		w.stored(false, pre)
		body := encodeTokens(rng, s.toks)
		in := append(w.bytes(), body...)
		r := check(t, rawFormat, in)
		if r.ref.err != nil || !bytes.Equal(r.ref.out, s.out) {
			t.Fatalf("seed %d: stdlib does not decode the hand-made stream as intended: %s", seed, r.ref)
		}
		if r.ours.err != nil || !bytes.Equal(r.ours.out, s.out) {
			t.Fatalf("seed %d: ours: %s", seed, r.ours)
		}
	}
}

// TestDistance32768 pins the maximal distance right at the window edge, in
// fixed and dynamic blocks, after stored blocks of various sizes (the window
// filled exactly, and slid by 65535-byte stored blocks).
func TestDistance32768(t *testing.T) {
	for _, preLen := range []int{32768, 32769, 65535, 3 * 65535, 200000} {
		pre := randomCorpus(preLen, uint64(preLen))
		for _, kind := range []string{"fixed", "dynamic"} {
			t.Run(fmt.Sprintf("%d/%s", preLen, kind), func(t *testing.T) {
				var w bitWriter
				for p := pre; len(p) > 0; {
					n := min(len(p), 65535)
					w.stored(false, p[:n])
					p = p[n:]
				}
				s := tokenStream{out: append([]byte(nil), pre...)}
				s.match(258, 32768)
				s.match(3, 32768)
				s.lit('z')
				s.match(100, 32768)
				s.match(258, 1)
				s.match(258, 32767)
				if kind == "fixed" {
					w.fixed(true, s.toks)
				} else {
					ll, dl := usedLens(rand.New(rand.NewPCG(1, uint64(preLen))), s.toks, 286, 30)
					w.dynamic(true, ll, dl, s.toks, nil)
				}
				r := check(t, rawFormat, w.bytes())
				if r.ref.err != nil || !bytes.Equal(r.ref.out, s.out) {
					t.Fatalf("stdlib: %s", r.ref)
				}
			})
		}
	}
}

// TestLargeStreams: multi-megabyte streams, so any internal window or
// output buffer slides and wraps many times.
func TestLargeStreams(t *testing.T) {
	size := 12 << 20
	if testing.Short() {
		size = 4 << 20
	}
	data := mixedCorpus(size, 11)
	cases := []struct {
		name string
		in   func() []byte
	}{
		{"std1", func() []byte { return stdFlate(data, 1) }},
		{"klauspost5", func() []byte { return kFlate(data, 5) }},
		{"std0-stored", func() []byte { return stdFlate(data[:size/2], 0) }},
		{"stdHuffmanOnly", func() []byte { return stdFlate(data[:size/4], flate.HuffmanOnly) }},
		{"zeros-klauspost9", func() []byte { return kFlate(make([]byte, size), 9) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.in()
			r := checkWith(t, rawFormat, in, checkOpts{patterns: []string{
				"ReadAll", "1-byte-reads", "OneByteReader", "bufio16", "Reset-after-error", "exact"}})
			if r.ref.err != nil || r.ref.capped {
				t.Fatalf("stdlib: %s", r.ref)
			}
		})
	}
}

// TestExactConsumption: several deflate streams back to back in one
// bufio.Reader, each decoded by a Reset reader, then trailing bytes.
func TestExactConsumption(t *testing.T) {
	var all bytes.Buffer
	var parts [][]byte
	for i, c := range smallCorpora()[:7] {
		comp := compressors()[i%len(compressors())]
		parts = append(parts, c.data)
		all.Write(comp.fn(c.data))
	}
	all.WriteString("trailing")
	for _, size := range []int{16, 100, 4096, 1 << 20} {
		br := bufio.NewReaderSize(bytes.NewReader(all.Bytes()), size)
		z := inflate.NewReader(br)
		for i, want := range parts {
			if i > 0 {
				z.Reset(br)
			}
			got, err := io.ReadAll(z)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("bufio %d: stream %d: got %d bytes, err %v; want %d bytes", size, i, len(got), err, len(want))
			}
		}
		rest, _ := io.ReadAll(br)
		if string(rest) != "trailing" {
			t.Errorf("bufio %d: left %q after the streams, want %q", size, rest, "trailing")
		}
	}
}

// TestReaderErrors: an error from the underlying reader must surface (never
// a clean io.EOF), and the output before it must be a prefix of the truth.
func TestReaderErrors(t *testing.T) {
	data := textCorpus(200<<10, 5)
	in := stdFlate(data, 6)
	boom := errors.New("boom")
	for _, cut := range []int{0, 1, 2, 10, len(in) / 2, len(in) - 1} {
		src := io.MultiReader(bytes.NewReader(in[:cut]), iotest.ErrReader(boom))
		got, err := io.ReadAll(inflate.NewReader(src))
		if err == nil {
			t.Errorf("cut %d: ours returned no error for a failing reader", cut)
		}
		if !bytes.HasPrefix(data, got) {
			t.Errorf("cut %d: output is not a prefix of the data", cut)
		}
		gsrc := io.MultiReader(bytes.NewReader(gzipBytes(data, 6)[:cut]), iotest.ErrReader(boom))
		if z, err := inflate.NewGzipReader(gsrc); err == nil {
			got, err := io.ReadAll(z)
			if err == nil {
				t.Errorf("gzip cut %d: ours returned no error for a failing reader", cut)
			}
			if !bytes.HasPrefix(data, got) {
				t.Errorf("gzip cut %d: output is not a prefix of the data", cut)
			}
		}
	}
}

// TestTruncations cuts valid streams at every length (small ones) or at
// many points (larger ones); every prefix must behave like stdlib, which
// says io.ErrUnexpectedEOF for all proper prefixes.
func TestTruncations(t *testing.T) {
	short := [][]byte{
		stdFlate([]byte("hello, hello, hello world"), 9),
		stdFlate(textCorpus(1000, 4), 9),
		stdFlate([]byte("abc"), 0),
		stdFlate(shortRepeatCorpus(500, 4), flate.HuffmanOnly),
		kFlate(longMatchCorpus(1200, 4), 5),
	}
	for i, in := range short {
		// Every cut for the first 64 bytes (headers), then about 100 cuts.
		step := max(1, (len(in)-64)/100)
		for cut := 0; cut < len(in); cut++ {
			if cut > 64 && cut%step != 0 && cut != len(in)-1 {
				continue
			}
			pats := []string{"ReadAll", "OneByteReader", "DataErrReader"}
			if cut%13 == 0 {
				pats = nil // all patterns
			}
			r := checkWith(t, rawFormat, in[:cut], checkOpts{patterns: pats})
			if !errors.Is(r.ref.err, io.ErrUnexpectedEOF) {
				t.Fatalf("stream %d cut %d: stdlib %s, expected unexpected EOF", i, cut, r.ref)
			}
			if t.Failed() {
				t.FailNow()
			}
		}
	}
	big := stdFlate(mixedCorpus(1<<20, 4), 6)
	rng := rand.New(rand.NewPCG(4, 4))
	for range 25 {
		cut := rng.IntN(len(big))
		r := checkWith(t, rawFormat, big[:cut], checkOpts{patterns: []string{"ReadAll", "HalfReader"}})
		if !errors.Is(r.ref.err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut %d: stdlib %s", cut, r.ref)
		}
	}
}

// TestBitFlips: single-bit corruptions of small valid streams; whatever
// stdlib does, ours must agree.
func TestBitFlips(t *testing.T) {
	ins := [][]byte{
		stdFlate(textCorpus(800, 8), 9),
		stdFlate(shortRepeatCorpus(600, 8), 1),
		kFlate(binaryCorpus(1500), 5),
		stdFlate([]byte("stored block"), 0),
	}
	rng := rand.New(rand.NewPCG(8, 8))
	for _, in := range ins {
		for bit := 0; bit < len(in)*8; bit++ {
			// Every bit of the first 48 bytes (block headers and code
			// lengths), a random third of the rest.
			if bit >= 48*8 && rng.IntN(3) != 0 {
				continue
			}
			c := append([]byte(nil), in...)
			c[bit/8] ^= 1 << (bit % 8)
			checkWith(t, rawFormat, c, checkOpts{patterns: []string{"ReadAll", "DataErrReader"}})
			if t.Failed() {
				t.Fatalf("bit %d flipped: input %x", bit, c)
			}
		}
	}
}

func TestResetReuse(t *testing.T) {
	a := textCorpus(100<<10, 21)
	b := shortRepeatCorpus(50<<10, 21)
	za, zb := stdFlate(a, 9), stdFlate(b, 1)
	z := inflate.NewReader(bytes.NewReader(za))
	for i, c := range []struct {
		in   []byte
		want []byte
		ok   bool
	}{
		{za, a, true},
		{zb, b, true},
		{za[:len(za)/2], a, false}, // truncated: error mid-block
		{zb, b, true},
		{[]byte{0x07}, nil, false}, // corrupt
		{za, a, true},
		{nil, nil, false},
		{zb, b, true},
	} {
		if i > 0 {
			z.Reset(bytes.NewReader(c.in))
		}
		got, err := io.ReadAll(z)
		if c.ok && (err != nil || !bytes.Equal(got, c.want)) {
			t.Errorf("step %d: got %d bytes, err %v; want %d bytes", i, len(got), err, len(c.want))
		}
		if !c.ok && (err == nil || !bytes.HasPrefix(c.want, got)) {
			t.Errorf("step %d: got %d bytes, err %v; want an error and a prefix", i, len(got), err)
		}
	}
}
