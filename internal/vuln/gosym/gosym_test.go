package gosym

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"math/rand"
	"os"
	"slices"
	"testing"
)

func readBytes(data []byte) (*Table, error) {
	return Read(bytes.NewReader(data), int64(len(data)))
}

func TestSynthetic(t *testing.T) {
	want := synthNames(synthFuncs)
	for _, tc := range []struct {
		name   string
		opts   synthOpts
		method string
	}{
		{"go1.20-64-le", synthOpts{version: "go1.26.8"}, "inline trees"},
		{"go1.18-64-le", synthOpts{go118: true, version: "go1.18.10"}, "inline trees"},
		{"go1.20-32-be", synthOpts{order: binary.BigEndian, ptrSize: 4, version: "go1.26.8"}, "inline trees"},
		{"go1.18-32-le", synthOpts{go118: true, ptrSize: 4}, "inline trees"},
		{"gofunc-moved", synthOpts{gofuncIndex: 52, version: "go1.99"}, "inline trees"},
		{"go1.27-layout", synthOpts{gofuncIndex: 43}, "inline trees"},
		{"no-moduledata", synthOpts{noModuledata: true}, "name table"},
		{"relro", synthOpts{relro: true, version: "go1.25.9"}, "inline trees"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := synthELF(synthFuncs, tc.opts)
			tab, err := readBytes(data)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(tab.Funcs(), want) {
				t.Errorf("Funcs = %q\nwant %q", tab.Funcs(), want)
			}
			if tab.method != tc.method {
				t.Errorf("method = %q, want %q", tab.method, tc.method)
			}
			if tab.GoVersion() != tc.opts.version {
				t.Errorf("GoVersion = %q, want %q", tab.GoVersion(), tc.opts.version)
			}
			if tc.method == "inline trees" && tab.numInline != 6 {
				t.Errorf("%d inlined-only names, want 6", tab.numInline)
			}
			for chunk := 1; chunk <= 257; chunk += 64 {
				ct, _, err := collect(t, data, chunk, int64(chunk))
				if err != nil {
					t.Fatalf("Collector (chunks ≤ %d): %v", chunk, err)
				}
				sameTable(t, "Collector vs Read", ct, tab)
			}
		})
	}
}

func TestHas(t *testing.T) {
	tab, err := readBytes(synthELF(synthFuncs, synthOpts{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		pkg, sym string
		want     bool
	}{
		{"net/http", "conn.serve", true},
		{"net/http", "(*conn).serve", true},
		{"net/http", "conn.hijacked", true}, // inlined only
		{"net/http", "Header.Get", true},
		{"net/http", "(*Header).Get", true},
		{"golang.org/x/text/language", "Parse", true}, // inlined only
		{"example.com/m/helper", "Twice", true},
		{"example.com/m/dot.pkg", "Max", true},
		{"example.com/m/dot.pkg", "Max[T]", true},
		{"example.com/m/dot.pkg", "T.Get", true},
		{"example.com/m/dot.pkg", "(*T).Get", true},
		{"example.com/m/dot.pkg", "(*T[K]).Get", true},
		{"example.com/m/dot.pkg", "T.Val", true},
		{"example.com/m/dot%2epkg", "T.Val", true},
		{"runtime", "g.ready", true},
		{"main", "main", true},
		{"net/http", "conn", false},
		{"net/http", "serve", false},
		{"net/http", "Get", false},
		{"net", "http.conn.serve", false},
		{"golang.org/x/text", "language.Parse", false},
		{"type:", ".eq.main.T", false},
		{"example.com/m/dot", "pkg.T.Get", false},
		{"", "", false},
	} {
		if got := tab.Has(c.pkg, c.sym); got != c.want {
			t.Errorf("Has(%q, %q) = %v, want %v", c.pkg, c.sym, got, c.want)
		}
	}
	want := []string{"example.com/m/dot.pkg", "example.com/m/helper", "golang.org/x/text/language", "main", "net/http", "runtime", "strings"}
	if got := tab.Packages(); !slices.Equal(got, want) {
		t.Errorf("Packages = %q, want %q", got, want)
	}
	// The results are copies.
	tab.Funcs()[0] = "x"
	tab.Packages()[0] = "x"
	if tab.Funcs()[0] == "x" || tab.Packages()[0] == "x" {
		t.Error("Funcs or Packages returned the table's own slice")
	}
}

func TestSplitName(t *testing.T) {
	for _, c := range []struct{ name, pkg, sym string }{
		{"net/http.(*conn).serve", "net/http", "(*conn).serve"},
		{"main.main", "main", "main"},
		{"gopkg.in/yaml%2ev3.Unmarshal", "gopkg.in/yaml.v3", "Unmarshal"},
		{"example.com/m.v2/p.F.func1", "example.com/m.v2/p", "F.func1"},
		{"p.F[go.shape.*net/http.Request]", "p", "F"},
		{"p.(*T[go.shape.int]).M", "p", "(*T).M"},
		{"type:.eq.main.T", "", ""},
		{"type..eq.main.T", "", ""},
		{"go:buildid", "", ""},
		{"go.buildid", "", ""},
		{"go.struct { sync.Mutex; c net/http.Client }.Lock", "", ""},
		{"go.(*struct { sync.Mutex }).Lock", "", ""},
		{"go:struct { sync.Mutex }.Lock", "", ""},
		{"go.uber.org/zap.New", "go.uber.org/zap", "New"},
		{"go.etcd.io/bbolt.(*DB).Begin", "go.etcd.io/bbolt", "(*DB).Begin"},
		{"type.example.com/t.F", "type.example.com/t", "F"},
		{"noDot", "", ""},
	} {
		if pkg, sym := splitName(c.name); pkg != c.pkg || sym != c.sym {
			t.Errorf("splitName(%q) = %q, %q; want %q, %q", c.name, pkg, sym, c.pkg, c.sym)
		}
	}
}

// TestHostile corrupts a synthetic binary in the ways the brief lists: lying
// offsets, truncated tables, huge counts. Each gives an error or a fallback,
// never a panic or a wrong table.
func TestHostile(t *testing.T) {
	base := synthELF(synthFuncs, synthOpts{version: "go1.26.8"})
	good, err := readBytes(base)
	if err != nil {
		t.Fatal(err)
	}
	hdr := synthROOff // file offset of the pcHeader
	le := binary.LittleEndian
	// Offsets of the parts, read back from the header.
	pctabOff := int(le.Uint64(base[hdr+56:]))
	pclnOff := int(le.Uint64(base[hdr+64:]))
	nfunc := int(le.Uint64(base[hdr+8:]))
	firstFunc := hdr + pclnOff + int(le.Uint32(base[hdr+pclnOff+4:]))
	thirdFunc := hdr + pclnOff + int(le.Uint32(base[hdr+pclnOff+2*8+4:]))
	mdOff := bytes.Index(base[synthROOff+1:], binary.LittleEndian.AppendUint64(nil, synthROAddr))
	if mdOff < 0 {
		t.Fatal("moduledata not found in the synthetic binary")
	}
	mdOff += synthROOff + 1
	gofunc := int(le.Uint64(base[mdOff+40*8:])) - synthROAddr + synthROOff

	for _, c := range []struct {
		name   string
		mutate func(b []byte) []byte
		err    error  // wanted error, or nil
		method string // wanted method when err is nil
	}{
		{"huge nfunc", func(b []byte) []byte { le.PutUint64(b[hdr+8:], 1<<60); return b }, ErrNotGo, ""},
		{"nfunc past the table", func(b []byte) []byte { le.PutUint64(b[hdr+8:], uint64(len(b))/8); return b }, ErrNotGo, ""},
		{"funcname offset past the end", func(b []byte) []byte { le.PutUint64(b[hdr+32:], 1<<40); return b }, ErrNotGo, ""},
		{"pcln offset past the end", func(b []byte) []byte { le.PutUint64(b[hdr+64:], uint64(len(b))); return b }, ErrNotGo, ""},
		{"bad pointer size", func(b []byte) []byte { b[hdr+7] = 3; return b }, ErrNotGo, ""},
		{"old magic", func(b []byte) []byte { le.PutUint32(b[hdr:], magic116); return b }, ErrNotGo, ""},
		{"lying func offset", func(b []byte) []byte {
			le.PutUint32(b[hdr+pclnOff+3*8+4:], 1<<31)
			return b
		}, errCorrupt, ""},
		{"functab out of order", func(b []byte) []byte {
			le.PutUint32(b[hdr+pclnOff+2*8:], 1<<30)
			return b
		}, errCorrupt, ""},
		{"lying name offset", func(b []byte) []byte { le.PutUint32(b[thirdFunc+4:], 1<<30); return b }, errCorrupt, ""},
		{"name offset inside a name", func(b []byte) []byte { le.PutUint32(b[thirdFunc+4:], 2); return b }, errCorrupt, ""},
		{"first name offset lying", func(b []byte) []byte { le.PutUint32(b[firstFunc+4:], 1<<30); return b }, ErrNotGo, ""},
		{"huge npcdata", func(b []byte) []byte { le.PutUint32(b[firstFunc+28:], 1<<30); return b }, errCorrupt, ""},
		{"lying pctab offset", func(b []byte) []byte { le.PutUint32(b[firstFunc+44+8:], 1<<30); return b }, errCorrupt, ""},
		{"huge inline tree", func(b []byte) []byte {
			// The first function's inline-tree-index table: make its value jump to 2^20.
			p := hdr + pctabOff + int(le.Uint32(b[firstFunc+44+8:]))
			copy(b[p+2:], binary.AppendUvarint(nil, 2<<20)) // +2^20, then a zero pc delta and the end
			return b
		}, errCorrupt, ""},
		{"unterminated pc-value table", func(b []byte) []byte {
			p := hdr + pctabOff + int(le.Uint32(b[firstFunc+44+8:]))
			for i := p; i < hdr+pclnOff; i++ {
				b[i] = 0xff
			}
			return b
		}, errCorrupt, ""},
		{"inline tree names garbage", func(b []byte) []byte {
			le.PutUint32(b[gofunc+4:], 1<<30) // first entry's nameOff
			return b
		}, nil, "name table"},
		{"inline tree outside the data", func(b []byte) []byte {
			le.PutUint32(b[firstFunc+44+12+12:], 1<<31) // funcdata[3]
			return b
		}, nil, "name table"},
		{"gofunc lost", func(b []byte) []byte {
			for i := 19; i < mdWords; i++ {
				le.PutUint64(b[mdOff+8*i:], 0)
			}
			return b
		}, nil, "name table"},
		{"moduledata disagrees", func(b []byte) []byte { le.PutUint64(b[mdOff+17*8:], uint64(nfunc)); return b }, nil, "name table"},
		{"moduledata lengths lie", func(b []byte) []byte {
			le.PutUint64(b[mdOff+2*8:], 1<<40)
			le.PutUint64(b[mdOff+3*8:], 1<<41)
			return b
		}, nil, "name table"},
		{"inline tree larger than the data", func(b []byte) []byte {
			// 2^14 entries: allowed for one tree, but more than the file holds.
			p := hdr + pctabOff + int(le.Uint32(b[firstFunc+44+8:]))
			copy(b[p+2:], binary.AppendUvarint(nil, 2<<14))
			return b
		}, errCorrupt, ""},
		{"segment beyond the file", func(b []byte) []byte { le.PutUint64(b[64+32:], 1<<40); return b }, ErrFormat, ""},
		{"program headers beyond the file", func(b []byte) []byte { le.PutUint64(b[0x20:], 1<<40); return b }, ErrFormat, ""},
		{"no program headers", func(b []byte) []byte { le.PutUint16(b[0x38:], 0); return b }, ErrFormat, ""},
		{"huge phnum", func(b []byte) []byte { le.PutUint16(b[0x38:], 0xfffe); return b }, ErrFormat, ""},
		{"not an executable", func(b []byte) []byte { return []byte("#!/bin/sh\necho hello\n") }, ErrFormat, ""},
		{"empty", func(b []byte) []byte { return nil }, ErrFormat, ""},
		{"truncated headers", func(b []byte) []byte { return b[:40] }, ErrFormat, ""},
		{"truncated function table", func(b []byte) []byte { return b[:hdr+pclnOff] }, ErrFormat, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := c.mutate(slices.Clone(base))
			tab, err := readBytes(data)
			_, _, cerr := collect(t, data, 100, 1)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("Read: err = %v, want %v", err, c.err)
				}
				if !errors.Is(cerr, c.err) {
					t.Fatalf("Collector: err = %v, want %v", cerr, c.err)
				}
				return
			}
			if err != nil || cerr != nil {
				t.Fatalf("Read: %v; Collector: %v", err, cerr)
			}
			if tab.method != c.method {
				t.Errorf("method = %q, want %q", tab.method, c.method)
			}
			if !slices.Equal(tab.funcs, good.funcs) {
				t.Errorf("Funcs = %q, want %q", tab.funcs, good.funcs)
			}
		})
	}
}

// TestTruncated reads every prefix of a synthetic binary and many of a real
// one: errors, no panics.
func TestTruncated(t *testing.T) {
	data := synthELF(synthFuncs, synthOpts{version: "go1.26.8"})
	for n := 0; n < len(data); n++ {
		// The writable segment ends the file: every prefix cuts a segment.
		if _, err := readBytes(data[:n]); !errors.Is(err, ErrFormat) {
			t.Fatalf("prefix of %d bytes: err = %v, want ErrFormat", n, err)
		}
	}
	full := buildProg(t, "inline", localTarget(), true)
	real, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 40; i++ {
		n := rng.Intn(len(real))
		if _, err := readBytes(real[:n]); err == nil {
			// A prefix can hold the whole table only past the read-only data.
			if n < len(real)/3 {
				t.Errorf("prefix of %d of %d bytes read without error", n, len(real))
			}
		}
	}
}

func TestCollectorLimit(t *testing.T) {
	data := synthELF(synthFuncs, synthOpts{version: "go1.26.8"})
	c := NewCollector(1000)
	c.Write(data)
	if _, err := c.Table(); err == nil {
		t.Fatal("Collector kept more than its limit without error")
	}
	if len(c.src.chunks) != 0 {
		t.Errorf("Collector holds %d chunks after failing", len(c.src.chunks))
	}
	// Big enough: fine, and nothing but the headers, the read-only data and
	// windows of the writable data is kept.
	c = NewCollector(1 << 20)
	c.Write(data)
	if _, err := c.Table(); err != nil {
		t.Fatal(err)
	}
	if c.kept >= int64(len(data)) {
		t.Errorf("kept %d of %d bytes", c.kept, len(data))
	}
}

// FuzzRead feeds Read and the Collector mutated synthetic binaries (whose
// bytes are almost all function table), a real small binary cut down to its
// read-only data and moduledata, and arbitrary bytes. Neither may panic, and
// the Collector must agree with Read whenever Read succeeds.
func FuzzRead(f *testing.F) {
	for _, o := range []synthOpts{
		{version: "go1.26.8"},
		{relro: true},
		{go118: true},
		{order: binary.BigEndian, ptrSize: 4},
		{noModuledata: true},
		{gofuncIndex: 50},
	} {
		f.Add(synthELF(synthFuncs, o))
	}
	f.Add(synthELF(synthFuncs[:1], synthOpts{}))
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Add([]byte("MZ"))
	f.Add([]byte("\xcf\xfa\xed\xfe"))
	f.Add([]byte{})
	// A real binary is a good seed to check but, at close to a megabyte, a
	// poor one to mutate: it is left out when fuzzing.
	if fl := flag.Lookup("test.fuzz"); !testing.Short() && (fl == nil || fl.Value.String() == "") {
		real, err := os.ReadFile(buildProg(f, "inline", localTarget(), true))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(shrink(f, real))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := readBytes(data)
		ct, _, cerr := collect(t, data, 1+len(data)%4096, int64(len(data)))
		if err != nil {
			return
		}
		if cerr != nil {
			t.Fatalf("Read succeeded, Collector failed: %v", cerr)
		}
		sameTable(t, "Collector vs Read", ct, tab)
		for _, fn := range tab.Funcs() {
			if pkg, sym := splitName(fn); pkg != "" {
				tab.Has(pkg, sym)
			}
		}
		tab.Packages()
	})
}

// shrink cuts a real ELF binary down to an ELF file with its read-only
// segment and just the moduledata and build information from its writable
// segment, at their addresses: the part of a Go binary the reader uses.
func shrink(t testing.TB, data []byte) []byte {
	l, err := parseHeaders(data, int64(len(data)))
	if err != nil || l.format != "elf" || l.ptrSize != 8 {
		t.Fatalf("shrink: %v", err)
	}
	tab, err := readBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	var ro, rw region
	for _, r := range l.regions {
		switch {
		case r.kind == kindReadOnly && ro.filesz == 0:
			ro = r
		case r.kind == kindWritable && rw.filesz == 0:
			rw = r
		}
	}
	// The writable part kept: from its start (build information) to the end
	// of moduledata.
	rwLen := int64(tab.mdAddr-rw.vaddr) + mdWords*8
	out := make([]byte, 0x1000, 0x1000+ro.filesz+rwLen)
	out = append(out, data[ro.off:ro.off+ro.filesz]...)
	for len(out)%0x1000 != 0 {
		out = append(out, 0)
	}
	rwOff := len(out)
	out = append(out, data[rw.off:rw.off+rwLen]...)
	copy(out, data[:64])
	le := binary.LittleEndian
	le.PutUint64(out[0x20:], 64)
	le.PutUint64(out[0x28:], 0) // no section headers
	le.PutUint16(out[0x38:], 2)
	le.PutUint16(out[0x3c:], 0)
	for i, p := range []struct {
		flags uint32
		off   int
		r     region
		n     int64
	}{{4, 0x1000, ro, ro.filesz}, {6, rwOff, rw, rwLen}} {
		b := out[64+56*i:]
		le.PutUint32(b, 1)
		le.PutUint32(b[4:], p.flags)
		le.PutUint64(b[8:], uint64(p.off))
		le.PutUint64(b[16:], p.r.vaddr)
		le.PutUint64(b[24:], p.r.vaddr)
		le.PutUint64(b[32:], uint64(p.n))
		le.PutUint64(b[40:], uint64(p.n))
		le.PutUint64(b[48:], 0x1000)
	}
	small, err := readBytes(out)
	if err != nil {
		t.Fatalf("shrunk binary: %v", err)
	}
	if !slices.Equal(small.funcs, tab.funcs) || small.method != "inline trees" {
		t.Fatalf("shrunk binary reads differently (%s)", small.method)
	}
	return out
}

func BenchmarkRead(b *testing.B) {
	p := buildProg(b, "server", localTarget(), true)
	f, err := os.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	b.SetBytes(st.Size())
	b.ReportAllocs()
	for b.Loop() {
		tab, err := Read(f, st.Size())
		if err != nil {
			b.Fatal(err)
		}
		if len(tab.funcs) < 5000 {
			b.Fatalf("only %d functions", len(tab.funcs))
		}
	}
}

// BenchmarkReadHas is Read and a first Has, which builds the symbol index.
func BenchmarkReadHas(b *testing.B) {
	p := buildProg(b, "server", localTarget(), true)
	f, err := os.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	b.SetBytes(st.Size())
	b.ReportAllocs()
	for b.Loop() {
		tab, err := Read(f, st.Size())
		if err != nil {
			b.Fatal(err)
		}
		if !tab.Has("net/http", "conn.serve") {
			b.Fatal("conn.serve not found")
		}
	}
}

func BenchmarkCollector(b *testing.B) {
	p := buildProg(b, "server", localTarget(), true)
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		c := NewCollector(64 << 20)
		for i := 0; i < len(data); i += 32 << 10 {
			c.Write(data[i:min(len(data), i+32<<10)])
		}
		if _, err := c.Table(); err != nil {
			b.Fatal(err)
		}
	}
}
