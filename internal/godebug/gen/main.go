// Command gen writes internal/godebug's table of GODEBUG settings from the
// settings table of the Go toolchain itself, src/internal/godebugs/table.go.
//
// It takes the table of the newest toolchain (-newest) as the list of
// settings, and the tables of older toolchains (-older) for what the newest
// one no longer says: the package, the release whose default changed and
// the old value of a setting it removed. An older table also tells which
// settings the newest one added after it (a patch release can add one).
//
// Each toolchain comes from the Go module proxy as the module
// golang.org/toolchain@v0.0.1-goVERSION.linux-amd64 (through
// `go mod download`, so a module cache or a proxy mirror serves as well);
// its zip holds src/ but not doc/. The table is parsed with go/parser,
// never matched with regular expressions: a field the generator does not
// know stops it, so a change of Go's table is noticed.
//
// Run it through `go generate ./internal/godebug`.
package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

func main() {
	newest := flag.String("newest", "", "the newest toolchain, e.g. go1.27.3: its table lists the settings")
	older := flag.String("older", "", "comma-separated older toolchains whose tables describe the settings the newest one removed")
	out := flag.String("o", "table_gen.go", "output file")
	flag.Parse()
	if *newest == "" {
		fmt.Fprintln(os.Stderr, "gen: -newest is required")
		os.Exit(2)
	}
	var olds []string
	if *older != "" {
		olds = strings.Split(*older, ",")
	}
	src, err := generate(*newest, olds, download)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if err := writeAtomic(*out, src); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// table is what one toolchain's table.go says.
type table struct {
	Version string // "go1.27.3"
	Module  string // module@version h1:sum, for the record
	All     []info
	Removed []removed
}

// info mirrors internal/godebugs.Info.
type info struct {
	Name, Package     string
	Changed           int
	Old               string
	Opaque, Immutable bool
}

// removed mirrors internal/godebugs.RemovedInfo; Old lists the values the
// predicate accepts.
type removed struct {
	Name    string
	Removed int
	Old     []string
}

// row is one line of the generated table.
type row struct {
	info
	Removed    int
	RemovedOld []string
	AddedAfter string
}

// fetchFunc returns the bytes of src/internal/godebugs/table.go of a
// toolchain and the module it came from.
type fetchFunc func(version string) (src []byte, module string, err error)

func generate(newest string, older []string, fetch fetchFunc) ([]byte, error) {
	var tables []table
	for _, v := range append([]string{newest}, older...) {
		src, mod, err := fetch(v)
		if err != nil {
			return nil, err
		}
		t, err := parseTable(v, src)
		if err != nil {
			return nil, err
		}
		t.Module = mod
		tables = append(tables, t)
	}
	rows, err := merge(tables)
	if err != nil {
		return nil, err
	}
	return render(tables, rows)
}

// merge lists the newest table's settings and its removed ones, the latter
// described by the newest older table that still has them.
func merge(tables []table) ([]row, error) {
	newest := tables[0]
	olds := slices.Clone(tables[1:])
	// Newest first, so a removed setting takes its last description.
	sort.SliceStable(olds, func(i, j int) bool { return versionLess(olds[j].Version, olds[i].Version) })
	for _, o := range olds {
		if !versionLess(o.Version, newest.Version) {
			return nil, fmt.Errorf("-older %s is not older than -newest %s", o.Version, newest.Version)
		}
	}
	var rows []row
	for _, in := range newest.All {
		rows = append(rows, row{info: in})
	}
	removedNames := map[string]bool{}
	for _, r := range newest.Removed {
		removedNames[r.Name] = true
		found := false
		for _, o := range olds {
			if in, ok := lookup(o.All, r.Name); ok {
				rows = append(rows, row{info: in, Removed: r.Removed, RemovedOld: r.Old})
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("%s removed %s in Go 1.%d and no older table lists it: add a toolchain older than go1.%d to -older",
				newest.Version, r.Name, r.Removed, r.Removed)
		}
	}
	for _, o := range olds {
		for _, in := range o.All {
			if _, ok := lookup(newest.All, in.Name); !ok && !removedNames[in.Name] {
				return nil, fmt.Errorf("%s lists %s, which %s neither lists nor removes", o.Version, in.Name, newest.Version)
			}
		}
	}
	// AddedAfter: the newest of the older tables that lacks a setting
	// while no table older than it has it, so a toolchain at or before
	// that version is known not to have it (a patch release after it may).
	oldestFirst := slices.Clone(olds)
	slices.Reverse(oldestFirst)
	for i := range rows {
		if rows[i].Removed != 0 {
			continue
		}
		var lacks string
		for _, o := range oldestFirst {
			if _, ok := lookup(o.All, rows[i].Name); ok {
				break
			}
			lacks = o.Version
		}
		rows[i].AddedAfter = lacks
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	for i := 1; i < len(rows); i++ {
		if rows[i].Name == rows[i-1].Name {
			return nil, fmt.Errorf("%s is listed twice", rows[i].Name)
		}
	}
	return rows, nil
}

func lookup(all []info, name string) (info, bool) {
	for _, in := range all {
		if in.Name == name {
			return in, true
		}
	}
	return info{}, false
}

// parseTable reads the All and Removed composite literals of table.go.
func parseTable(version string, src []byte) (table, error) {
	t := table{Version: version}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "table.go", src, 0)
	if err != nil {
		return t, fmt.Errorf("table.go of %s: %w", version, err)
	}
	funcs := map[string]*ast.FuncDecl{}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
			funcs[fd.Name.Name] = fd
		}
	}
	var sawAll bool
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if len(vs.Names) != 1 || len(vs.Values) != 1 {
				continue
			}
			lit, ok := vs.Values[0].(*ast.CompositeLit)
			if !ok {
				continue
			}
			where := func(n ast.Node) string { return fmt.Sprintf("table.go of %s: %s", version, fset.Position(n.Pos())) }
			switch vs.Names[0].Name {
			case "All":
				sawAll = true
				for _, e := range lit.Elts {
					in, err := parseInfo(e)
					if err != nil {
						return t, fmt.Errorf("%s: %w", where(e), err)
					}
					t.All = append(t.All, in)
				}
			case "Removed":
				for _, e := range lit.Elts {
					r, err := parseRemoved(e, funcs)
					if err != nil {
						return t, fmt.Errorf("%s: %w", where(e), err)
					}
					t.Removed = append(t.Removed, r)
				}
			}
		}
	}
	if !sawAll || len(t.All) == 0 {
		return t, fmt.Errorf("table.go of %s: no `var All = []Info{...}`", version)
	}
	return t, nil
}

func fields(e ast.Expr) (map[string]ast.Expr, error) {
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		return nil, fmt.Errorf("element is %T, want a composite literal", e)
	}
	m := map[string]ast.Expr{}
	for _, el := range lit.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			return nil, errors.New("element without field names")
		}
		k, ok := kv.Key.(*ast.Ident)
		if !ok {
			return nil, fmt.Errorf("field key is %T", kv.Key)
		}
		m[k.Name] = kv.Value
	}
	return m, nil
}

func parseInfo(e ast.Expr) (info, error) {
	var in info
	m, err := fields(e)
	if err != nil {
		return in, err
	}
	for k, v := range m {
		switch k {
		case "Name":
			in.Name, err = stringLit(v)
		case "Package":
			in.Package, err = stringLit(v)
		case "Changed":
			in.Changed, err = intLit(v)
		case "Old":
			in.Old, err = stringLit(v)
		case "Opaque":
			in.Opaque, err = boolLit(v)
		case "Immutable":
			in.Immutable, err = boolLit(v)
		default:
			return in, fmt.Errorf("Info field %s is new to the generator: teach internal/godebug/gen about it", k)
		}
		if err != nil {
			return in, fmt.Errorf("field %s: %w", k, err)
		}
	}
	if in.Name == "" || in.Package == "" {
		return in, errors.New("Info without Name or Package")
	}
	return in, nil
}

func parseRemoved(e ast.Expr, funcs map[string]*ast.FuncDecl) (removed, error) {
	var r removed
	m, err := fields(e)
	if err != nil {
		return r, err
	}
	for k, v := range m {
		switch k {
		case "Name":
			r.Name, err = stringLit(v)
		case "Removed":
			r.Removed, err = intLit(v)
		case "Old":
			r.Old, err = predicateValues(v, funcs)
		default:
			return r, fmt.Errorf("RemovedInfo field %s is new to the generator: teach internal/godebug/gen about it", k)
		}
		if err != nil {
			return r, fmt.Errorf("field %s: %w", k, err)
		}
	}
	if r.Name == "" || r.Removed == 0 {
		return r, errors.New("RemovedInfo without Name or Removed")
	}
	return r, nil
}

// predicateValues lists the string constants a predicate compares its
// argument with: `one` (a function of the file), or a function literal.
func predicateValues(e ast.Expr, funcs map[string]*ast.FuncDecl) ([]string, error) {
	var body *ast.BlockStmt
	switch e := e.(type) {
	case *ast.Ident:
		fd, ok := funcs[e.Name]
		if !ok || fd.Body == nil {
			return nil, fmt.Errorf("predicate %s is not a function of table.go", e.Name)
		}
		body = fd.Body
	case *ast.FuncLit:
		body = e.Body
	default:
		return nil, fmt.Errorf("predicate is %T", e)
	}
	var vals []string
	var err error
	ast.Inspect(body, func(n ast.Node) bool {
		b, ok := n.(*ast.BinaryExpr)
		if !ok {
			return true
		}
		switch b.Op {
		case token.LOR:
			return true
		case token.EQL:
			for _, side := range []ast.Expr{b.X, b.Y} {
				if bl, ok := side.(*ast.BasicLit); ok && bl.Kind == token.STRING {
					s, uerr := strconv.Unquote(bl.Value)
					if uerr != nil {
						err = uerr
					}
					vals = append(vals, s)
				}
			}
			return false
		default:
			err = fmt.Errorf("predicate uses %s: only == and || are understood", b.Op)
			return false
		}
	})
	if err != nil {
		return nil, err
	}
	if len(vals) == 0 {
		return nil, errors.New("predicate compares with no string constant")
	}
	sort.Strings(vals)
	return slices.Compact(vals), nil
}

func stringLit(e ast.Expr) (string, error) {
	bl, ok := e.(*ast.BasicLit)
	if !ok || bl.Kind != token.STRING {
		return "", fmt.Errorf("not a string literal")
	}
	return strconv.Unquote(bl.Value)
}

func intLit(e ast.Expr) (int, error) {
	bl, ok := e.(*ast.BasicLit)
	if !ok || bl.Kind != token.INT {
		return 0, fmt.Errorf("not an integer literal")
	}
	return strconv.Atoi(bl.Value)
}

func boolLit(e ast.Expr) (bool, error) {
	id, ok := e.(*ast.Ident)
	if !ok || (id.Name != "true" && id.Name != "false") {
		return false, fmt.Errorf("not true or false")
	}
	return id.Name == "true", nil
}

// versionLess orders "go1.N.P" toolchain versions.
func versionLess(a, b string) bool {
	pa, pb := versionParts(a), versionParts(b)
	return slices.Compare(pa, pb) < 0
}

func versionParts(v string) []int {
	var out []int
	for f := range strings.SplitSeq(strings.TrimPrefix(v, "go"), ".") {
		n, _ := strconv.Atoi(f)
		out = append(out, n)
	}
	for len(out) < 3 {
		out = append(out, 0)
	}
	return out
}

func render(tables []table, rows []row) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by internal/godebug/gen; DO NOT EDIT.\n\n")
	fmt.Fprintf(&b, "// The facts below come from src/internal/godebugs/table.go of these Go\n")
	fmt.Fprintf(&b, "// toolchains, Copyright The Go Authors, under Go's BSD-style licence (see\n")
	fmt.Fprintf(&b, "// NOTICE):\n//\n")
	for _, t := range tables {
		fmt.Fprintf(&b, "//\t%s\n", t.Module)
	}
	fmt.Fprintf(&b, "\npackage godebug\n\n")
	fmt.Fprintf(&b, "// newest is the toolchain whose table lists the settings.\n")
	fmt.Fprintf(&b, "const newest = %q\n\n", tables[0].Version)
	fmt.Fprintf(&b, "var goTable = []goInfo{\n")
	for _, r := range rows {
		var f []string
		f = append(f, fmt.Sprintf("Name: %q", r.Name), fmt.Sprintf("Package: %q", r.Package))
		if r.Changed != 0 {
			f = append(f, fmt.Sprintf("Changed: %d", r.Changed), fmt.Sprintf("Old: %q", r.Old))
		} else if r.Old != "" {
			f = append(f, fmt.Sprintf("Old: %q", r.Old))
		}
		if r.Opaque {
			f = append(f, "Opaque: true")
		}
		if r.Immutable {
			f = append(f, "Immutable: true")
		}
		if r.Removed != 0 {
			var q []string
			for _, v := range r.RemovedOld {
				q = append(q, strconv.Quote(v))
			}
			f = append(f, fmt.Sprintf("Removed: %d", r.Removed), fmt.Sprintf("RemovedOld: []string{%s}", strings.Join(q, ", ")))
		}
		if r.AddedAfter != "" {
			f = append(f, fmt.Sprintf("AddedAfter: %q", r.AddedAfter))
		}
		fmt.Fprintf(&b, "\t{%s},\n", strings.Join(f, ", "))
	}
	fmt.Fprintf(&b, "}\n")
	return format.Source(b.Bytes())
}

// download fetches a toolchain module through `go mod download` and reads
// table.go out of its zip.
func download(version string) ([]byte, string, error) {
	mod := "golang.org/toolchain@v0.0.1-" + version + ".linux-amd64"
	tmp, err := os.MkdirTemp("", "godebug-gen")
	if err != nil {
		return nil, "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("go", "mod", "download", "-json", mod)
	cmd.Dir = tmp // outside any module: nothing to edit
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GO111MODULE=on")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var res struct{ Zip, Sum, Error string }
	if jerr := json.Unmarshal(out, &res); jerr == nil && res.Error != "" {
		return nil, "", fmt.Errorf("downloading %s: %s", mod, res.Error)
	}
	if err != nil {
		return nil, "", fmt.Errorf("downloading %s: %w: %s", mod, err, strings.TrimSpace(stderr.String()))
	}
	if res.Zip == "" {
		return nil, "", fmt.Errorf("downloading %s: go mod download named no zip", mod)
	}
	zr, err := zip.OpenReader(res.Zip)
	if err != nil {
		return nil, "", fmt.Errorf("opening %s: %w", res.Zip, err)
	}
	defer zr.Close()
	name := mod + "/src/internal/godebugs/table.go"
	for _, f := range zr.File {
		if f.Name != name {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, "", err
		}
		defer rc.Close()
		src, err := io.ReadAll(io.LimitReader(rc, 1<<20))
		if err != nil {
			return nil, "", fmt.Errorf("reading %s: %w", name, err)
		}
		return src, mod + " " + res.Sum, nil
	}
	return nil, "", fmt.Errorf("%s has no src/internal/godebugs/table.go (toolchains before go1.21 have no table)", mod)
}

func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".gen-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
