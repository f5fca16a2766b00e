// Package apk catalogues Alpine packages from /lib/apk/db/installed.
package apk

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/sbom/catalog"
)

// DBPath is apk's database of installed packages.
const DBPath = "/lib/apk/db/installed"

const maxDB = 64 << 20

// Package is one installed package.
type Package struct {
	Name, Version, Arch, Origin, License, Maintainer string
	Files                                            []string
	Line                                             int
}

type parsed struct {
	pkgs     []Package
	warnings []string
}

// Cataloger reads the apk database.
type Cataloger struct {
	db catalog.Versions[parsed]
}

// New returns a cataloger.
func New() *Cataloger { return &Cataloger{} }

// Name implements catalog.Cataloger.
func (c *Cataloger) Name() string { return "apk" }

// Visit implements image.Visitor.
func (c *Cataloger) Visit(e *image.Entry) bool {
	return e.Kind == image.KindFile && e.Path == DBPath
}

// Content implements image.Visitor.
func (c *Cataloger) Content(e *image.Entry, r io.Reader) error {
	pkgs, warns, err := Parse(io.LimitReader(r, maxDB+1))
	if err != nil {
		warns = append(warns, err.Error())
	}
	c.db.Add(e.Path, e.Layer, parsed{pkgs: pkgs, warnings: warns})
	return nil
}

// Results implements catalog.Cataloger.
func (c *Cataloger) Results(t *image.Tree, env *catalog.Env) catalog.Findings {
	var f catalog.Findings
	vs := c.db.Final(t, DBPath)
	if len(vs) == 0 {
		return f
	}
	last := vs[len(vs)-1]
	for _, w := range last.Value.warnings {
		f.Warnings = append(f.Warnings, sbom.Warning{Path: DBPath, Layer: last.Layer, Message: w})
	}
	for _, p := range last.Value.pkgs {
		layer := catalog.AddedIn(vs, func(v parsed) bool {
			return slices.ContainsFunc(v.pkgs, func(q Package) bool { return q.Name == p.Name && q.Version == p.Version })
		})
		comp := sbom.Component{
			ID: "apk:" + p.Name + "@" + p.Version, Type: sbom.TypeApk, Name: p.Name, Version: p.Version,
			Arch: p.Arch, Path: DBPath, Layer: layer, Files: p.Files, PURL: PURL(p, env.Distro),
		}
		if p.Origin != "" && p.Origin != p.Name {
			comp.SourceName = p.Origin
		}
		if p.License != "" {
			comp.Licenses = []string{p.License}
		}
		f.Components = append(f.Components, comp)
	}
	return f
}

// PURL returns pkg:apk/alpine/NAME@VERSION with arch, distro and upstream
// (origin) qualifiers.
func PURL(p Package, d *sbom.Distro) string {
	up := ""
	if p.Origin != "" && p.Origin != p.Name {
		up = p.Origin
	}
	return catalog.DistroPURL("apk", "alpine", p.Name, p.Version, p.Arch, up, d)
}

// Parse reads apk's installed database: stanzas of "K:value" lines
// separated by blank lines. A stanza without P or V is skipped with a
// warning; lines that are not "K:value" are warnings too.
func Parse(r io.Reader) ([]Package, []string, error) {
	var pkgs []Package
	var warns []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var cur Package
	var dir string
	have := false
	total := 0
	flush := func() {
		if !have {
			return
		}
		if cur.Name == "" || cur.Version == "" {
			warns = append(warns, fmt.Sprintf("stanza at line %d: no P: or V: line: skipped", cur.Line))
		} else {
			pkgs = append(pkgs, cur)
		}
		cur, dir, have = Package{}, "", false
	}
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		total += len(line) + 1
		if total > maxDB {
			return pkgs, warns, fmt.Errorf("database larger than %d bytes: read no further", maxDB)
		}
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		if len(line) < 2 || line[1] != ':' {
			warns = append(warns, fmt.Sprintf("line %d: want \"K:value\", got %q", n, clip(line)))
			continue
		}
		if !have {
			cur.Line = n
			have = true
		}
		v := line[2:]
		switch line[0] {
		case 'P':
			cur.Name = v
		case 'V':
			cur.Version = v
		case 'A':
			cur.Arch = v
		case 'o':
			cur.Origin = v
		case 'L':
			cur.License = v
		case 'm':
			cur.Maintainer = v
		case 'F':
			dir = v
		case 'R':
			cur.Files = append(cur.Files, "/"+strings.TrimPrefix(dir+"/"+v, "/"))
		}
	}
	if err := sc.Err(); err != nil {
		return pkgs, warns, err
	}
	flush()
	return pkgs, warns, nil
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
