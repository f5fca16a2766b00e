package gosym

import (
	"bytes"
	"debug/elf"
	"debug/gosym"
	"debug/macho"
	"debug/pe"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Test programs use only the standard library, so building them needs no
// network. go.mod says go 1.18 so that every toolchain under test builds them.
var programs = map[string]map[string]string{
	"server": {
		"main.go": `package main

import (
	"fmt"
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, r.Header.Get("X-Name"))
	})
	if len(os.Args) > 1 {
		_ = http.ListenAndServe(os.Args[1], nil)
	}
}
`,
	},
	"json": {
		"main.go": `package main

import (
	"encoding/json"
	"fmt"
	"os"
)

type Msg struct {
	Name string ` + "`json:\"name\"`" + `
	N    int    ` + "`json:\"n\"`" + `
}

func main() {
	var m Msg
	if err := json.Unmarshal([]byte(` + "`{\"name\":\"x\",\"n\":1}`" + `), &m); err != nil {
		os.Exit(1)
	}
	b, _ := json.Marshal(m)
	fmt.Println(string(b))
}
`,
	},
	// helper.Twice is small and called once: the compiler inlines it into
	// main.main and the linker drops its out-of-line copy, so it is in no
	// functab entry, only in main.main's inline tree. dot.pkg has a dot in
	// its last path element, which the linker escapes as %2e, and methods
	// with both receiver kinds and a generic function.
	"inline": {
		"main.go": `package main

import (
	"fmt"
	"os"

	dotpkg "example.com/prog/dot.pkg"
	"example.com/prog/helper"
)

func main() {
	n := helper.Twice(len(os.Args))
	t := &dotpkg.T{N: n}
	fmt.Println(n, t.Get(), dotpkg.T{N: 2}.Val(), dotpkg.Max(n, 3), dotpkg.Max(1.5, 2.5))
}
`,
		"helper/helper.go": `package helper

// Twice is inlined into its only caller.
func Twice(x int) int { return 2 * x }
`,
		"dot.pkg/dot.go": `package dotpkg

type T struct{ N int }

//go:noinline
func (t *T) Get() int { return t.N }

//go:noinline
func (t T) Val() int { return t.N + 1 }

//go:noinline
func Max[V int | float64](a, b V) V {
	if a > b {
		return a
	}
	return b
}
`,
	},
}

// A toolchain builds the test programs.
type toolchain struct {
	name  string   // for test names and cache keys
	goCmd string   // the go command
	env   []string // extra environment (GOTOOLCHAIN)
}

var localGo = toolchain{name: "local", goCmd: "go", env: []string{"GOTOOLCHAIN=local"}}

type target struct {
	tc     toolchain
	goos   string
	goarch string
	// An externally linked PIE built with cgo: up to Go 1.25 its function
	// table is in .data.rel.ro, a writable segment made read-only by
	// PT_GNU_RELRO.
	extPIE bool
}

func (tg target) String() string {
	s := tg.tc.name + "/" + tg.goos + "/" + tg.goarch
	if tg.extPIE {
		s += "/extpie"
	}
	return s
}

func (tg target) env() []string {
	cgo := "CGO_ENABLED=0"
	if tg.extPIE {
		cgo = "CGO_ENABLED=1"
	}
	env := append(os.Environ(), cgo, "GOWORK=off", "GOFLAGS=", "GOOS="+tg.goos, "GOARCH="+tg.goarch)
	return append(env, tg.tc.env...)
}

func (tg target) flags(stripped bool) []string {
	ld := ""
	if stripped {
		ld = "-s -w"
	}
	if tg.extPIE {
		ld += " -linkmode=external"
		return []string{"-buildmode=pie", "-ldflags=" + strings.TrimSpace(ld)}
	}
	if ld != "" {
		return []string{"-ldflags=" + ld}
	}
	return nil
}

func localTarget() target { return target{localGo, "linux", runtime.GOARCH, false} }

var (
	binDir  string
	buildMu sync.Mutex
	built   = map[string]string{} // key -> path, or "!" + error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gosym-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildProg builds program prog for tg, stripped or not, once per test binary run.
func buildProg(t testing.TB, prog string, tg target, stripped bool) string {
	t.Helper()
	key := fmt.Sprintf("%s-%s-%v", prog, strings.ReplaceAll(tg.String(), "/", "-"), stripped)
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[key]; ok {
		if strings.HasPrefix(p, "!") {
			t.Fatal(p[1:])
		}
		return p
	}
	src := filepath.Join(binDir, "src-"+prog)
	if _, err := os.Stat(src); err != nil {
		files := map[string]string{"go.mod": "module example.com/prog\n\ngo 1.18\n"}
		for name, body := range programs[prog] {
			files[name] = body
		}
		for name, body := range files {
			p := filepath.Join(src, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	out := filepath.Join(binDir, key)
	args := []string{"build", "-trimpath", "-o", out}
	args = append(args, tg.flags(stripped)...)
	args = append(args, ".")
	cmd := exec.Command(tg.tc.goCmd, args...)
	cmd.Dir = src
	cmd.Env = tg.env()
	if b, err := cmd.CombinedOutput(); err != nil {
		msg := fmt.Sprintf("go %s: %v\n%s", strings.Join(args, " "), err, b)
		built[key] = "!" + msg
		t.Fatal(msg)
	}
	built[key] = out
	return out
}

func readFile(t testing.TB, path string) *Table {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	tab, err := Read(f, st.Size())
	if err != nil {
		t.Fatalf("Read(%s): %v", filepath.Base(path), err)
	}
	return tab
}

// goVersion is the version the toolchain reports.
func goVersion(t testing.TB, tc toolchain) string {
	t.Helper()
	cmd := exec.Command(tc.goCmd, "env", "GOVERSION")
	cmd.Env = append(os.Environ(), tc.env...)
	cmd.Dir = binDir
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s env GOVERSION: %v", tc.goCmd, err)
	}
	return strings.TrimSpace(string(b))
}

// debugGosymFuncs lists the functions that the standard library's debug/gosym
// sees in an ELF binary: the functab entries, inlined functions not included.
func debugGosymFuncs(t testing.TB, path string) []string {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var data []byte
	if sec := f.Section(".gopclntab"); sec != nil {
		if data, err = sec.Data(); err != nil {
			t.Fatal(err)
		}
	} else {
		// Externally linked PIE up to Go 1.25: the table is inside
		// .data.rel.ro, between the symbols runtime.pclntab and
		// runtime.epclntab.
		start, ok1 := elfSymbol(t, path, "runtime.pclntab")
		end, ok2 := elfSymbol(t, path, "runtime.epclntab")
		if !ok1 || !ok2 || end <= start {
			t.Fatal("no .gopclntab section and no runtime.pclntab symbol")
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD && p.Vaddr <= start && end <= p.Vaddr+p.Filesz {
				data = make([]byte, end-start)
				if _, err := p.ReadAt(data, int64(start-p.Vaddr)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if data == nil {
			t.Fatal("runtime.pclntab in no segment")
		}
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, f.Section(".text").Addr))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, fn := range tab.Funcs {
		out = append(out, fn.Name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// elfSymbol returns the value of the named symbol in .symtab.
func elfSymbol(t testing.TB, path string, names ...string) (uint64, bool) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return 0, false
	}
	for _, s := range syms {
		if slices.Contains(names, s.Name) {
			return s.Value, true
		}
	}
	return 0, false
}

// collect feeds the file to a Collector in chunks of random sizes up to maxChunk.
func collect(t testing.TB, data []byte, maxChunk int, seed int64) (*Table, *Collector, error) {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	c := NewCollector(256 << 20)
	for len(data) > 0 {
		n := min(len(data), 1+rng.Intn(maxChunk))
		if m, err := c.Write(data[:n]); m != n || err != nil {
			t.Fatalf("Write = %d, %v", m, err)
		}
		data = data[n:]
	}
	tab, err := c.Table()
	return tab, c, err
}

// sameTable fails unless a and b hold the same answer.
func sameTable(t testing.TB, what string, a, b *Table) {
	t.Helper()
	if !slices.Equal(a.funcs, b.funcs) {
		t.Errorf("%s: Funcs differ: %d vs %d names; first difference: %s", what, len(a.funcs), len(b.funcs), firstDiff(a.funcs, b.funcs))
	}
	if a.goVersion != b.goVersion || a.method != b.method || a.numInline != b.numInline {
		t.Errorf("%s: (GoVersion, method, inlined) = (%q, %q, %d) vs (%q, %q, %d)", what,
			a.goVersion, a.method, a.numInline, b.goVersion, b.method, b.numInline)
	}
}

func firstDiff(a, b []string) string {
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return fmt.Sprintf("%q vs %q", x, y)
		}
	}
	return "none"
}

// checkProgram runs every check that applies to program prog built for tg
// as an ELF binary, stripped and not.
func checkProgram(t *testing.T, prog string, tg target) {
	full := buildProg(t, prog, tg, false)
	stripped := buildProg(t, prog, tg, true)
	if _, ok := elfSymbol(t, stripped, "runtime.main"); ok {
		t.Fatalf("%s: the stripped build has a symbol table", stripped)
	}
	a, b := readFile(t, full), readFile(t, stripped)

	// Stripped and unstripped: the same answer, by the same method.
	sameTable(t, "unstripped vs stripped", a, b)
	for _, tab := range []*Table{a, b} {
		if tab.method != "inline trees" {
			t.Errorf("method = %q, want inline trees (moduledata not found?)", tab.method)
		}
		if tab.numInline == 0 {
			t.Errorf("no inlined-only function found")
		}
	}
	if want := goVersion(t, tg.tc); a.GoVersion() != want || b.GoVersion() != want {
		t.Errorf("GoVersion = %q, %q; want %q", a.GoVersion(), b.GoVersion(), want)
	}

	// gofunc and moduledata, found without symbols, are where the symbol
	// table of the unstripped build says.
	if v, ok := elfSymbol(t, full, "go:func.*", "go.func.*"); !ok || v != a.gofunc {
		t.Errorf("gofunc = %#x, symbol go:func.* = %#x (found %v)", a.gofunc, v, ok)
	}
	if v, ok := elfSymbol(t, full, "runtime.firstmoduledata"); !ok || v != a.mdAddr {
		t.Errorf("moduledata at %#x, symbol runtime.firstmoduledata = %#x (found %v)", a.mdAddr, v, ok)
	}

	// Everything debug/gosym lists is there, and more.
	dg := debugGosymFuncs(t, full)
	set := map[string]bool{}
	for _, f := range b.Funcs() {
		set[f] = true
	}
	var missing []string
	for _, f := range dg {
		if !set[f] {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d functions debug/gosym lists are missing, e.g. %q", len(missing), missing[:min(5, len(missing))])
	}
	if len(b.Funcs()) <= len(dg) {
		t.Errorf("Funcs has %d names, debug/gosym %d: no inlined function added", len(b.Funcs()), len(dg))
	}

	// The functab and the inline trees name exactly what funcnametab holds.
	for _, p := range []string{full, stripped} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if nt := nameTable(t, data); !slices.Equal(nt, b.funcs) {
			t.Errorf("%s: name table (%d) and functab+inline trees (%d) differ: %s", filepath.Base(p), len(nt), len(b.funcs), firstDiff(nt, b.funcs))
		}
		// The Collector, fed the file in random pieces, gets the same table.
		for seed := int64(1); seed <= 2; seed++ {
			ct, c, err := collect(t, data, []int{64 << 10, 4093}[seed-1], seed)
			if err != nil {
				t.Fatalf("Collector: %v", err)
			}
			sameTable(t, "Collector vs Read", ct, a)
			if text := textBytes(t, data); c.kept > int64(len(data))-text {
				t.Errorf("Collector kept %d of %d bytes, more than all but the %d bytes of code", c.kept, len(data), text)
			}
		}
	}

	switch prog {
	case "server":
		for _, s := range []string{"conn.serve", "(*conn).serve", "ListenAndServe", "Header.Get", "(*Server).Serve", "Server.Serve"} {
			if !a.Has("net/http", s) || !b.Has("net/http", s) {
				t.Errorf("Has(net/http, %q) = false", s)
			}
		}
		if !slices.Contains(b.Packages(), "net/http") || !slices.Contains(b.Packages(), "main") {
			t.Errorf("Packages lacks net/http or main: %v", b.Packages())
		}
	case "json":
		for _, s := range []string{"Unmarshal", "Marshal", "(*decodeState).object"} {
			if !b.Has("encoding/json", s) {
				t.Errorf("Has(encoding/json, %q) = false", s)
			}
		}
	case "inline":
		checkInlineProgram(t, tg, full, a, b, dg)
	}
}

// nameTable is every name in the table's funcnametab.
func nameTable(t testing.TB, data []byte) []string {
	t.Helper()
	l, err := parseHeaders(data, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	m := &memory{}
	for _, r := range l.regions {
		if r.kind == kindReadOnly {
			m.regions = append(m.regions, r)
			m.data = append(m.data, data[r.off:r.off+r.filesz])
		}
	}
	h, err := findPCHeader(m)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := newTable(h, findModuledata(fullSource{bytes.NewReader(data), int64(len(data))}, l, h))
	if err != nil {
		t.Fatal(err)
	}
	set := newNameSet(len(tb.funcnametab))
	tb.allNames(set)
	names, _ := tb.names(string(tb.funcnametab), set, nil)
	return names
}

// textBytes is the size of the executable code in the file.
func textBytes(t testing.TB, data []byte) int64 {
	l, err := parseHeaders(data, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, r := range l.regions {
		if r.kind == kindText {
			n += r.filesz
		}
	}
	return n
}

func checkInlineProgram(t *testing.T, tg target, full string, a, b *Table, dg []string) {
	const twice = "example.com/prog/helper.Twice"
	// The compiler says it inlines helper.Twice ...
	// Not -o /dev/null: go1.19's go command replaces the target file.
	discard := filepath.Join(binDir, "discard-"+strings.ReplaceAll(tg.String(), "/", "-"))
	cmd := exec.Command(tg.tc.goCmd, "build", "-gcflags=-m", "-o", discard, ".")
	cmd.Dir = filepath.Join(binDir, "src-inline")
	cmd.Env = tg.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("inlining call to helper.Twice")) {
		t.Fatalf("the compiler did not inline helper.Twice:\n%s", out)
	}
	// ... and it has no code of its own: debug/gosym does not see it.
	if slices.Contains(dg, twice) {
		t.Fatalf("%s has an out-of-line copy; the test program no longer tests inlining", twice)
	}
	for _, tab := range []*Table{a, b} {
		if !slices.Contains(tab.Funcs(), twice) {
			t.Errorf("Funcs lacks the inlined %s", twice)
		}
		if !tab.Has("example.com/prog/helper", "Twice") {
			t.Errorf("Has(helper, Twice) = false")
		}
	}
	checkDotPkg(t, b)
}

// checkDotPkg checks the symbol forms on the dot.pkg package.
func checkDotPkg(t *testing.T, tab *Table) {
	const pkg = "example.com/prog/dot.pkg"
	for _, s := range []string{"T.Get", "(*T).Get", "T.Val", "Max", "Max[int]"} {
		if !tab.Has(pkg, s) {
			t.Errorf("Has(%s, %q) = false", pkg, s)
		}
	}
	if !tab.Has("example.com/prog/dot%2epkg", "T.Get") {
		t.Errorf("Has with the escaped path = false")
	}
	for _, s := range []string{"Get", "T", "Min", "T.Get.func1", ""} {
		if tab.Has(pkg, s) {
			t.Errorf("Has(%s, %q) = true", pkg, s)
		}
	}
	if tab.Has("example.com/prog/dot", "pkg.T.Get") {
		t.Errorf("Has(example.com/prog/dot, pkg.T.Get) = true")
	}
	pkgs := tab.Packages()
	for _, p := range []string{pkg, "main", "fmt", "runtime"} {
		if !slices.Contains(pkgs, p) {
			t.Errorf("Packages lacks %q", p)
		}
	}
	for _, p := range pkgs {
		if p == "" || p == "go" || p == "type" || strings.Contains(p, "%") || strings.Contains(p, "[") {
			t.Errorf("Packages has %q", p)
		}
	}
	if !slices.IsSorted(pkgs) {
		t.Errorf("Packages not sorted")
	}
}

func TestPrograms(t *testing.T) {
	for _, prog := range []string{"server", "json", "inline"} {
		t.Run(prog, func(t *testing.T) { checkProgram(t, prog, localTarget()) })
	}
}

// TestOtherFormats checks Mach-O and PE builds: stripped and unstripped agree,
// the inlined function is found, and gofunc is where the symbol table that
// debug/macho and debug/pe read says.
func TestOtherFormats(t *testing.T) {
	for _, tg := range []target{{localGo, "darwin", "arm64", false}, {localGo, "windows", "amd64", false}} {
		t.Run(tg.goos+"-"+tg.goarch, func(t *testing.T) {
			full := buildProg(t, "inline", tg, false)
			stripped := buildProg(t, "inline", tg, true)
			a, b := readFile(t, full), readFile(t, stripped)
			sameTable(t, "unstripped vs stripped", a, b)
			if b.method != "inline trees" {
				t.Errorf("method = %q", b.method)
			}
			if !b.Has("example.com/prog/helper", "Twice") {
				t.Errorf("inlined helper.Twice not found")
			}
			checkDotPkg(t, b)
			var gofunc uint64
			switch tg.goos {
			case "darwin":
				f, err := macho.Open(full)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				for _, s := range f.Symtab.Syms {
					if s.Name == "go:func.*" {
						gofunc = s.Value
					}
				}
			case "windows":
				f, err := pe.Open(full)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				base := f.OptionalHeader.(*pe.OptionalHeader64).ImageBase
				for _, s := range f.Symbols {
					if s.Name == "go:func.*" {
						gofunc = base + uint64(f.Sections[s.SectionNumber-1].VirtualAddress) + uint64(s.Value)
					}
				}
			}
			if gofunc == 0 || gofunc != a.gofunc {
				t.Errorf("gofunc = %#x, symbol go:func.* = %#x", a.gofunc, gofunc)
			}
			data, err := os.ReadFile(stripped)
			if err != nil {
				t.Fatal(err)
			}
			ct, _, err := collect(t, data, 10000, 3)
			if err != nil {
				t.Fatal(err)
			}
			sameTable(t, "Collector vs Read", ct, b)
		})
	}
}

// TestE2E builds with other toolchains and architectures: Go 1.27.3 through
// GOTOOLCHAIN (fetched through the module proxy), arm64, 386, externally
// linked PIE with the local toolchain and with Go 1.25.9 (when gcc is
// installed), and Go 1.19 when Debian's golang-1.19-go is installed.
func TestE2E(t *testing.T) {
	if os.Getenv("REDLINE_E2E") != "1" {
		t.Skip("set REDLINE_E2E=1")
	}
	go127 := toolchain{name: "go1.27.3", goCmd: "go", env: []string{"GOTOOLCHAIN=go1.27.3"}}
	targets := []target{
		{localGo, "linux", "arm64", false},
		{localGo, "linux", "386", false},
		{go127, "linux", "amd64", false},
		{go127, "linux", "arm64", false},
	}
	if _, err := exec.LookPath("gcc"); err == nil {
		go125 := toolchain{name: "go1.25.9", goCmd: "go", env: []string{"GOTOOLCHAIN=go1.25.9"}}
		targets = append(targets,
			target{localGo, "linux", runtime.GOARCH, true},
			target{go125, "linux", runtime.GOARCH, true})
	} else {
		t.Log("no gcc: externally linked PIE not tested")
	}
	if p := "/usr/lib/go-1.19/bin/go"; fileExists(p) {
		go119 := toolchain{name: "go1.19", goCmd: p, env: []string{"GOTOOLCHAIN=local"}}
		targets = append(targets, target{go119, "linux", "amd64", false}, target{go119, "linux", "arm64", false})
	} else {
		t.Logf("%s not installed: Go 1.19 not tested", p)
	}
	for _, tg := range targets {
		for _, prog := range []string{"server", "inline"} {
			t.Run(strings.ReplaceAll(tg.String(), "/", "-")+"/"+prog, func(t *testing.T) { checkProgram(t, prog, tg) })
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
