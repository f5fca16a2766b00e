// Package dpkg catalogues Debian packages from /var/lib/dpkg/status, the
// distroless form /var/lib/dpkg/status.d/*, and the file lists in
// /var/lib/dpkg/info/*.list and status.d/*.md5sums.
package dpkg

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/sbom/catalog"
)

// Where dpkg keeps its database.
const (
	StatusPath = "/var/lib/dpkg/status"
	StatusDir  = "/var/lib/dpkg/status.d"
	InfoDir    = "/var/lib/dpkg/info"
)

// maxDB bounds one status file (a full Debian desktop's is ~5 MB) and
// maxList one file list.
const (
	maxDB   = 64 << 20
	maxList = 16 << 20
)

// Package is one installed package of a status file.
type Package struct {
	Name, Version, Arch       string
	Source, SourceVersion     string
	Maintainer, InstalledSize string
	Line                      int // where its stanza starts
}

type parsed struct {
	pkgs     []Package
	warnings []string
}

// Cataloger reads the dpkg database.
type Cataloger struct {
	status catalog.Versions[parsed]
	lists  catalog.Versions[[]string]
}

// New returns a cataloger.
func New() *Cataloger { return &Cataloger{} }

// Name implements catalog.Cataloger.
func (c *Cataloger) Name() string { return "dpkg" }

// Visit implements image.Visitor.
func (c *Cataloger) Visit(e *image.Entry) bool {
	if e.Kind != image.KindFile {
		return false
	}
	dir := path.Dir(e.Path)
	switch {
	case e.Path == StatusPath:
		return true
	case dir == StatusDir:
		return true // a stanza per package, or its .md5sums
	case dir == InfoDir && strings.HasSuffix(e.Path, ".list"):
		return true
	}
	return false
}

// Content implements image.Visitor.
func (c *Cataloger) Content(e *image.Entry, r io.Reader) error {
	switch {
	case strings.HasSuffix(e.Path, ".list") && path.Dir(e.Path) == InfoDir:
		c.lists.Add(e.Path, e.Layer, readList(io.LimitReader(r, maxList), false))
	case strings.HasSuffix(e.Path, ".md5sums") && path.Dir(e.Path) == StatusDir:
		c.lists.Add(e.Path, e.Layer, readList(io.LimitReader(r, maxList), true))
	default:
		pkgs, warns, err := Parse(io.LimitReader(r, maxDB+1))
		if err != nil {
			warns = append(warns, err.Error())
		}
		c.status.Add(e.Path, e.Layer, parsed{pkgs: pkgs, warnings: warns})
	}
	return nil
}

// readList reads a .list (a path a line) or .md5sums ("HASH  path").
func readList(r io.Reader, md5sums bool) []string {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if md5sums {
			_, p, ok := strings.Cut(line, "  ")
			if !ok {
				continue
			}
			line = "/" + strings.TrimPrefix(p, "/")
		}
		if line == "" || line == "/." {
			continue
		}
		out = append(out, line)
	}
	return out
}

// Results implements catalog.Cataloger.
func (c *Cataloger) Results(t *image.Tree, env *catalog.Env) catalog.Findings {
	var f catalog.Findings
	paths := c.status.Paths()
	sort.Strings(paths)
	for _, p := range paths {
		vs := c.status.Final(t, p)
		if len(vs) == 0 {
			continue
		}
		last := vs[len(vs)-1]
		for _, w := range last.Value.warnings {
			f.Warnings = append(f.Warnings, sbom.Warning{Path: p, Layer: last.Layer, Message: w})
		}
		for _, pkg := range last.Value.pkgs {
			comp := c.component(pkg, p, addedIn(vs, pkg), env, t)
			f.Components = append(f.Components, comp)
		}
	}
	return f
}

// addedIn returns the layer that added pkg.
func addedIn(vs []catalog.Version[parsed], pkg Package) int {
	return catalog.AddedIn(vs, func(v parsed) bool {
		return slices.ContainsFunc(v.pkgs, func(p Package) bool { return p.Name == pkg.Name && p.Version == pkg.Version })
	})
}

func (c *Cataloger) component(pkg Package, dbPath string, layer int, env *catalog.Env, t *image.Tree) sbom.Component {
	comp := sbom.Component{
		ID: "deb:" + pkg.Name + "@" + pkg.Version, Type: sbom.TypeDeb, Name: pkg.Name, Version: pkg.Version,
		Arch: pkg.Arch, Path: dbPath, Layer: layer,
	}
	if pkg.Arch != "" && pkg.Arch != "all" {
		comp.ID += ":" + pkg.Arch
	}
	if pkg.Source != "" && (pkg.Source != pkg.Name || pkg.SourceVersion != "") {
		comp.SourceName = pkg.Source
		comp.SourceVersion = pkg.SourceVersion
	}
	comp.PURL = PURL(pkg, env.Distro)
	// File lists: info/NAME.list or info/NAME:ARCH.list; status.d/NAME.md5sums.
	for _, lp := range []string{
		path.Join(InfoDir, pkg.Name+".list"),
		path.Join(InfoDir, pkg.Name+":"+pkg.Arch+".list"),
		path.Join(StatusDir, pkg.Name+".md5sums"),
	} {
		if vs := c.lists.Final(t, lp); len(vs) > 0 {
			comp.Files = vs[len(vs)-1].Value
			break
		}
	}
	return comp
}

// PURL returns the package URL of a Debian package: the distro ID is the
// namespace (debian, ubuntu, ...), with arch, distro and upstream (the
// source package, with its version when it differs) qualifiers.
func PURL(pkg Package, d *sbom.Distro) string {
	up := ""
	if pkg.Source != "" && pkg.Source != pkg.Name {
		up = pkg.Source
		if pkg.SourceVersion != "" && pkg.SourceVersion != pkg.Version {
			up += "@" + pkg.SourceVersion
		}
	}
	return catalog.DistroPURL("deb", "debian", pkg.Name, pkg.Version, pkg.Arch, up, d)
}

// Parse reads a dpkg status file (or one stanza of status.d). Packages not
// fully installed (removed with config files left, half-configured) are
// skipped as dpkg-query -W skips them. A stanza without a name or version
// is skipped with a warning naming its line; I/O errors are returned.
func Parse(r io.Reader) ([]Package, []string, error) {
	var pkgs []Package
	var warns []string
	br := bufio.NewReaderSize(r, 64<<10)
	fields := map[string]string{}
	var last string
	start, line := 0, 0
	total := 0
	flush := func() {
		defer clear(fields)
		if len(fields) == 0 {
			return
		}
		status := fields["Status"]
		if status != "" && !strings.HasSuffix(status, " installed") {
			return
		}
		p := Package{
			Name: fields["Package"], Version: fields["Version"], Arch: fields["Architecture"],
			Maintainer: fields["Maintainer"], InstalledSize: fields["Installed-Size"], Line: start,
		}
		if p.Name == "" || p.Version == "" {
			warns = append(warns, fmt.Sprintf("stanza at line %d: no Package or Version field: skipped", start))
			return
		}
		if src := strings.TrimSpace(fields["Source"]); src != "" {
			name, ver, ok := strings.Cut(src, " ")
			p.Source = name
			if ok {
				p.SourceVersion = strings.Trim(strings.TrimSpace(ver), "()")
			}
		}
		pkgs = append(pkgs, p)
	}
	for {
		s, err := br.ReadString('\n')
		total += len(s)
		if total > maxDB {
			return pkgs, warns, fmt.Errorf("status file larger than %d bytes: read no further", maxDB)
		}
		if s != "" {
			line++
			text := strings.TrimRight(s, "\r\n")
			switch {
			case strings.TrimSpace(text) == "":
				flush()
				last = ""
			case text[0] == ' ' || text[0] == '\t':
				if last == "" {
					warns = append(warns, fmt.Sprintf("line %d: continuation line outside a field", line))
					break
				}
				if last != "Description" && last != "Conffiles" {
					fields[last] += "\n" + strings.TrimSpace(text)
				}
			default:
				k, v, ok := strings.Cut(text, ":")
				if !ok {
					warns = append(warns, fmt.Sprintf("line %d: want \"Field: value\", got %q", line, clip(text)))
					break
				}
				if len(fields) == 0 {
					start = line
				}
				last = k
				fields[k] = strings.TrimSpace(v)
			}
		}
		if err == io.EOF {
			flush()
			return pkgs, warns, nil
		}
		if err != nil {
			return pkgs, warns, err
		}
	}
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
