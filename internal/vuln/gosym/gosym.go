// Package gosym lists the functions present in a Go executable, the ones
// inlined into others included, from the function table (.gopclntab) alone,
// so that it gives the same answer for a binary built with -ldflags="-s -w"
// as for the same program built without.
//
// It answers symbol-level vulnerability reachability for binaries: "is
// net/http.(*conn).serve, or golang.org/x/text/language.Parse, in there?".
// A function that the compiler inlined everywhere has no code of its own and
// no entry of its own in the function table; it survives only as a name in
// the inline trees of its callers, and tools that read only the table's
// entries, or that need the symbol table to find the inline trees, miss it.
//
// The inline trees are found through runtime.firstmoduledata, as the runtime
// finds them, never through the symbol table (see moduledata.go). Should that
// fail, every name in the function table's name table is listed instead:
// the linker writes there exactly the names of the functions with code and of
// the functions inlined into them, so the answer is the same (the tests check
// that it is, on every binary they build).
//
// Supported: executables built by Go 1.18 and later (function table magic
// 0xfffffff0 for 1.18 and 1.19, 0xfffffff1 since 1.20), ELF, Mach-O and PE,
// 32- and 64-bit, either byte order. A Table is safe for concurrent use.
package gosym

import (
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Table is the set of functions present in an executable.
type Table struct {
	funcs     []string // sorted, unique
	goVersion string

	// How the inlined functions were found: "inline trees" (functab plus
	// the inline tree of each function, from go:func.* located through
	// moduledata) or "name table" (every name in funcnametab: moduledata
	// was not found).
	method    string
	gofunc    uint64 // address of go:func.*, 0 if unknown
	mdAddr    uint64 // address of runtime.firstmoduledata, 0 if not found
	pcHeader  uint64 // address of the function table header
	numFTab   int    // functions with an entry (and code) of their own
	numInline int    // names found only in inline trees

	once  sync.Once
	index map[[2]string]struct{} // {import path, normalized symbol}
	pkgs  []string
}

// Read reads the function table of a Go executable (ELF, Mach-O, PE) through
// a ReaderAt; size is the file's size. It reads the headers and the read-only
// data (which holds the function table and go:func.*) into memory, and scans
// the writable data, a megabyte at a time, for moduledata and the build
// information. Executable code and debug information are never read.
//
// Errors wrap ErrFormat (not an executable, or headers that do not fit the
// file), ErrNotGo (no Go 1.18+ function table) or describe a corrupt table.
func Read(r io.ReaderAt, size int64) (*Table, error) {
	if size < 0 {
		return nil, ErrFormat
	}
	l, err := readHeaders(r, size)
	if err != nil {
		return nil, err
	}
	return build(fullSource{r, size}, l)
}

// build makes the table from the layout l of the file behind src.
func build(src source, l *layout) (*Table, error) {
	m := &memory{}
	var total int64
	for _, r := range l.regions {
		if r.kind != kindReadOnly {
			continue
		}
		if total += r.filesz; total > maxImage {
			return nil, fmt.Errorf("gosym: more than %d bytes of read-only data", maxImage)
		}
		var b []byte
		if s, ok := src.(*sparseSource); ok {
			// A Collector's bytes are used in place.
			if b, ok = s.slice(r.off, r.filesz); !ok {
				return nil, fmt.Errorf("gosym: read-only data at file offset %#x: %w", r.off, errNotKept)
			}
		} else {
			b = make([]byte, r.filesz)
			if _, err := src.ReadAt(b, r.off); err != nil {
				return nil, fmt.Errorf("gosym: reading read-only data at file offset %#x: %w", r.off, err)
			}
		}
		m.regions = append(m.regions, r)
		m.data = append(m.data, b)
	}
	h, err := findPCHeader(m)
	if err != nil {
		return nil, err
	}
	md := findModuledata(src, l, h)
	t, err := newTable(h, md)
	if err != nil {
		return nil, err
	}
	ftab := newNameSet(len(t.funcnametab))
	inl, err := t.funcs(ftab)
	if err != nil {
		return nil, err
	}
	// Inline trees do not overlap, so together they fit in the read-only
	// data; more entries than that means shared or lying tables, which
	// would only make each gofunc candidate cost more to reject.
	var entries, roBytes uint64
	for _, ref := range inl {
		entries += uint64(ref.count)
	}
	for _, d := range m.data {
		roBytes += uint64(len(d))
	}
	if entries*16 > roBytes {
		return nil, corrupt("%d inline tree entries cannot fit in %d bytes", entries, roBytes)
	}
	tab := &Table{pcHeader: h.addr, goVersion: readGoVersion(src, l)}
	all := newNameSet(len(t.funcnametab))
	if md != nil {
		tab.mdAddr = md.addr
		cands := md.gofuncCandidates(h.go120, m)
		for _, g := range cands {
			all.clear()
			if err := t.inlineNames(m, g, inl, all); err == nil {
				tab.gofunc, tab.method = g, "inline trees"
				break
			}
		}
		if tab.method == "" && len(inl) == 0 && len(cands) > 0 {
			tab.gofunc, tab.method = cands[0], "inline trees"
		}
	}
	if tab.method == "" {
		// No moduledata, or no base from which every inline tree decodes:
		// fall back to the name table, which holds the same names.
		tab.method = "name table"
		all.clear()
		t.allNames(all)
	}
	for i, w := range ftab {
		all[i] |= w
	}
	// One string for the whole name table; names are substrings of it.
	tab.funcs, tab.numFTab = t.names(string(t.funcnametab), all, ftab)
	tab.numInline = len(tab.funcs) - tab.numFTab
	return tab, nil
}

// Funcs returns every function name, inlined ones included, as the Go
// runtime names them ("net/http.(*conn).serve",
// "golang.org/x/text/language.Parse", "main.main"), sorted and
// deduplicated. Instantiations of generic functions appear once, with "[...]"
// for their type arguments, as in the runtime's tracebacks.
func (t *Table) Funcs() []string {
	return append([]string(nil), t.funcs...)
}

// GoVersion returns the Go version that built the executable ("go1.26.8"),
// or "" when the build information is missing.
func (t *Table) GoVersion() string { return t.goVersion }

// Packages returns the import paths, sorted, that have at least one function
// in the table, the linker's escaping ("%2e") undone.
func (t *Table) Packages() []string {
	t.buildIndex()
	return append([]string(nil), t.pkgs...)
}

// Has reports whether the function pkg.symbol is present, where pkg is an
// import path and symbol is in the form the Go vulnerability database uses:
// "Parse", "Tag.String" (a method with a value or pointer receiver). "(*T).M"
// is also accepted and means the same as "T.M"; type arguments of generic
// functions and types are ignored ("Map[K,V].Load" and "Map.Load" are the same).
// Closures (".func1") and method value wrappers ("-fm") are functions of their
// own and do not count as their enclosing function.
func (t *Table) Has(pkg, symbol string) bool {
	t.buildIndex()
	_, ok := t.index[[2]string{unescapePath(pkg), normalizeSymbol(symbol)}]
	return ok
}

func (t *Table) buildIndex() {
	t.once.Do(func() {
		t.index = make(map[[2]string]struct{}, len(t.funcs))
		pkgs := map[string]struct{}{}
		for _, f := range t.funcs {
			pkg, sym := splitName(f)
			if pkg == "" {
				continue
			}
			pkgs[pkg] = struct{}{}
			t.index[[2]string{pkg, normalizeSymbol(sym)}] = struct{}{}
		}
		for p := range pkgs {
			t.pkgs = append(t.pkgs, p)
		}
		sort.Strings(t.pkgs)
	})
}

// splitName splits a function name into its unescaped import path and the
// rest: "net/http.(*conn).serve" is "net/http" and "(*conn).serve". Names the
// compiler or linker made up ("type:.eq.main.T", "go:buildid", and their Go
// 1.18-1.19 spellings "type..eq.main.T", "go.buildid") have no package;
// "go.uber.org/zap.New" has one.
func splitName(name string) (pkg, sym string) {
	if strings.HasPrefix(name, "go:") || strings.HasPrefix(name, "type:") || strings.HasPrefix(name, "type..") ||
		(strings.HasPrefix(name, "go.") && !domainFirst(name)) {
		return "", ""
	}
	// Type arguments may hold paths and dots: "p.F[go.shape.*net/http.Request]".
	// The runtime's names hold "[...]" instead, but be careful anyway.
	plain := stripTypeArgs(name)
	slash := strings.LastIndexByte(plain, '/')
	dot := strings.IndexByte(plain[slash+1:], '.')
	if dot < 0 {
		return "", ""
	}
	end := slash + 1 + dot
	return unescapePath(plain[:end]), plain[end+1:]
}

// domainFirst reports whether name starts with an import path whose first
// element looks like a domain ("go.uber.org/zap.New"), as opposed to the
// names Go 1.18 and 1.19 give generated code ("go.buildid",
// "go.struct { ... }.M", "go.(*struct { ... }).M").
func domainFirst(name string) bool {
	i := strings.IndexByte(name, '/')
	if i < 0 {
		return false
	}
	for _, c := range name[:i] {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// normalizeSymbol maps the forms of a symbol to one: "(*T).M" and "T.M" to
// "T.M", "F[...]" to "F", "(*T[...]).M" to "T.M".
func normalizeSymbol(s string) string {
	s = stripTypeArgs(s)
	if strings.HasPrefix(s, "(*") {
		if i := strings.IndexByte(s, ')'); i > 2 {
			s = s[2:i] + s[i+1:]
		}
	} else if strings.HasPrefix(s, "(") {
		if i := strings.IndexByte(s, ')'); i > 1 {
			s = s[1:i] + s[i+1:]
		}
	}
	return s
}

// stripTypeArgs removes every bracketed part of s: "F[...]" becomes "F".
func stripTypeArgs(s string) string {
	if strings.IndexByte(s, '[') < 0 {
		return s
	}
	var b strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '[':
			depth++
		case c == ']' && depth > 0:
			depth--
		case depth == 0:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// unescapePath undoes the linker's escaping of import paths in symbol names
// (cmd/internal/objabi.PathToPrefix: "%2e" for a dot in the last element).
func unescapePath(p string) string {
	if strings.IndexByte(p, '%') < 0 {
		return p
	}
	if u, err := url.PathUnescape(p); err == nil {
		return u
	}
	return p
}
