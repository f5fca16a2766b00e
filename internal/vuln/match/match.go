// Package match finds the vulnerabilities of an SBOM's components in OSV
// data: Go modules and the standard library (semver, pseudo-versions,
// +incompatible, release candidates), Debian and Alpine packages (dpkg
// and apk ordering, matched on the source package and the release from
// os-release). For Go binaries it grades each finding by what the binary's
// function table holds: called (a vulnerable symbol is present), imported
// (a vulnerable package is, none of its symbols), required (only the
// module). Aliases are merged into one finding; withdrawn entries are
// skipped by the database.
package match

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/vuln"
	"github.com/redline-go/redline/internal/vuln/osv"
)

// DB is what matching needs of the vulnerability database.
type DB interface {
	Lookup(ecosystem, name string) []*osv.Entry
}

// Symbols is what matching needs of a Go binary's function table.
type Symbols interface {
	// Has reports whether pkg.symbol ("Parse", "T.Method") is present.
	Has(pkg, symbol string) bool
	// Packages lists the import paths with functions in the binary.
	Packages() []string
}

// Options tune [Match].
type Options struct {
	// Symbols returns the function table of the Go binary at path, nil
	// when it could not be read (findings then stay at required, with a
	// warning).
	Symbols func(binaryPath string) Symbols
	// Toolchain also matches the "toolchain" module (the go command's
	// own advisories) against the stdlib component: for source modules,
	// which the local toolchain builds. Binaries are not built by it.
	Toolchain bool
}

// Match returns the findings of every component of s, and warnings for
// components that could not be placed (unknown ecosystems, versions that
// do not parse).
func Match(s *sbom.SBOM, d DB, o Options) ([]vuln.Finding, []string) {
	m := &matcher{db: d, opts: o, tables: map[string]Symbols{}, platforms: map[string][2]string{}, ranges: rangeCache{}}
	for _, c := range s.Components {
		if c.Type == sbom.TypeBinary && c.Go != nil {
			m.platforms[c.Path] = [2]string{c.Go.Get("GOOS"), c.Go.Get("GOARCH")}
		}
	}
	var out []vuln.Finding
	for _, c := range s.Components {
		out = append(out, m.component(s, c)...)
	}
	sortFindings(out)
	return out, m.warnings
}

type matcher struct {
	ranges    rangeCache
	sev       map[sevKey]sevResult
	db        DB
	opts      Options
	tables    map[string]Symbols
	platforms map[string][2]string // binary -> GOOS, GOARCH
	warnings  []string
}

// target is where one component is looked up.
type target struct {
	ecosystem, name, version string
}

func (m *matcher) targets(s *sbom.SBOM, c sbom.Component) []target {
	switch c.Type {
	case sbom.TypeGoModule:
		if c.Main || c.Version == "" || c.Version == "(devel)" {
			return nil // the program itself: not versioned
		}
		return []target{{osv.EcosystemGo, c.Name, strings.TrimPrefix(c.Version, "v")}}
	case sbom.TypeStdlib:
		ts := []target{{osv.EcosystemGo, "stdlib", c.Version}}
		if m.opts.Toolchain {
			ts = append(ts, target{osv.EcosystemGo, "toolchain", c.Version})
		}
		return ts
	case sbom.TypeDeb, sbom.TypeApk:
		d := s.Distro
		if d == nil || d.VersionID == "" {
			m.warnings = append(m.warnings, fmt.Sprintf("%s %s: no os-release release to match it against", c.Type, c.Name))
			return nil
		}
		name, version := c.Name, c.Version
		if c.SourceName != "" {
			name = c.SourceName
		}
		if c.SourceVersion != "" {
			version = c.SourceVersion
		}
		eco := ""
		switch {
		case c.Type == sbom.TypeDeb && d.ID == "debian":
			eco = "Debian:" + majorOf(d.VersionID)
		case c.Type == sbom.TypeDeb && d.ID == "ubuntu":
			eco = "Ubuntu:" + d.VersionID
		case c.Type == sbom.TypeApk:
			eco = "Alpine:v" + minorOf(d.VersionID)
		default:
			m.warnings = append(m.warnings, fmt.Sprintf("%s %s: distribution %q has no vulnerability ecosystem redline knows", c.Type, c.Name, d.ID))
			return nil
		}
		return []target{{eco, name, version}}
	}
	return nil
}

func majorOf(v string) string {
	major, _, _ := strings.Cut(v, ".")
	return major
}

func minorOf(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) >= 2 {
		return parts[0] + "." + parts[1]
	}
	return v
}

func (m *matcher) component(s *sbom.SBOM, c sbom.Component) []vuln.Finding {
	var found []vuln.Finding
	for _, t := range m.targets(s, c) {
		ord := OrderingFor(t.ecosystem)
		if ord == nil {
			continue
		}
		for _, e := range m.db.Lookup(t.ecosystem, t.name) {
			for i := range e.Affected {
				a := &e.Affected[i]
				if a.Package.Ecosystem != t.ecosystem || a.Package.Name != t.name {
					continue
				}
				hit, fixed, err := affects(a, ord, t.version, m.ranges)
				if err != nil {
					m.warnings = append(m.warnings, fmt.Sprintf("%s: %s@%s: %v", e.ID, t.name, t.version, err))
					continue
				}
				if !hit {
					continue
				}
				f, ok := m.finding(c, e, *a, fixed)
				if ok {
					found = append(found, f)
				}
			}
		}
	}
	return mergeAliases(found, c)
}

// finding builds one finding and grades its reachability.
func (m *matcher) finding(c sbom.Component, e *osv.Entry, a osv.Affected, fixed string) (vuln.Finding, bool) {
	sev, vector := m.severity(e, &a)
	f := vuln.Finding{
		ID: e.ID, Aliases: slices.Clone(e.Aliases), Summary: e.Summary, Severity: sev, CVSS: vector,
		Component: vuln.ComponentRef{ID: c.ID, Type: string(c.Type), Name: c.Name, Version: c.Version, PURL: c.PURL, Path: c.Path, Layer: c.Layer},
		Fixed:     fixed,
		URL:       advisoryURL(e),
	}
	switch c.Type {
	case sbom.TypeDeb, sbom.TypeApk:
		f.Reach = vuln.Installed
		if c.SourceName != "" {
			f.Packages = []string{c.SourceName}
		}
		return f, true
	}
	// Go: grade by the binary's function table.
	var imports []osv.Import
	if a.EcosystemSpecific != nil {
		imports = a.EcosystemSpecific.Imports
	}
	plat := m.platforms[c.Path]
	imports = slices.DeleteFunc(slices.Clone(imports), func(im osv.Import) bool {
		return !platformIn(plat[0], im.GOOS) || !platformIn(plat[1], im.GOARCH)
	})
	if a.EcosystemSpecific != nil && len(a.EcosystemSpecific.Imports) > 0 && len(imports) == 0 {
		return f, false // only vulnerable on other platforms than the binary's
	}
	f.Reach = vuln.Required
	tab := m.table(c.Path)
	if tab == nil || c.Path == "" {
		return f, true
	}
	present := map[string]bool{}
	for _, p := range tab.Packages() {
		present[p] = true
	}
	for _, im := range imports {
		if !present[im.Path] {
			continue
		}
		f.Packages = appendUnique(f.Packages, im.Path)
		if len(im.Symbols) == 0 {
			// The whole package is vulnerable: linking it in is enough.
			f.Reach = vuln.Called
			continue
		}
		for _, sym := range im.Symbols {
			if tab.Has(im.Path, sym) {
				f.Symbols = appendUnique(f.Symbols, im.Path+"."+sym)
				f.Reach = vuln.Called
			}
		}
		if f.Reach != vuln.Called {
			f.Reach = vuln.Imported
		}
	}
	return f, true
}

type sevKey struct {
	e *osv.Entry
	a *osv.Severity
}

type sevResult struct{ level, vector string }

// severity caches severityOf per entry: decoding database_specific for
// every component an entry matches would dominate large scans.
func (m *matcher) severity(e *osv.Entry, a *osv.Affected) (string, string) {
	var first *osv.Severity
	if len(a.Severity) > 0 {
		first = &a.Severity[0]
	}
	k := sevKey{e, first}
	if r, ok := m.sev[k]; ok {
		return r.level, r.vector
	}
	level, vector := severityOf(e, a)
	if m.sev == nil {
		m.sev = map[sevKey]sevResult{}
	}
	m.sev[k] = sevResult{level, vector}
	return level, vector
}

func (m *matcher) table(path string) Symbols {
	if m.opts.Symbols == nil || path == "" {
		return nil
	}
	if t, ok := m.tables[path]; ok {
		return t
	}
	t := m.opts.Symbols(path)
	m.tables[path] = t
	if t == nil {
		m.warnings = append(m.warnings, fmt.Sprintf("%s: function table unreadable: its Go findings are graded required", path))
	}
	return t
}

func platformIn(v string, list []string) bool {
	return len(list) == 0 || v == "" || slices.Contains(list, v)
}

func appendUnique(xs []string, x string) []string {
	if slices.Contains(xs, x) {
		return xs
	}
	return append(xs, x)
}

func advisoryURL(e *osv.Entry) string {
	switch {
	case strings.HasPrefix(e.ID, "GO-"):
		return "https://pkg.go.dev/vuln/" + e.ID
	case strings.HasPrefix(e.ID, "GHSA-"):
		return "https://github.com/advisories/" + e.ID
	}
	return "https://osv.dev/vulnerability/" + e.ID
}

// mergeAliases folds findings of one component that name the same flaw
// (an ID of one is an alias of another) into one: the strongest
// reachability, the highest severity, the highest fix (both must be
// applied), the union of symbols and names. The Go database's ID is
// preferred as the name.
func mergeAliases(fs []vuln.Finding, c sbom.Component) []vuln.Finding {
	if len(fs) < 2 {
		return fs
	}
	parent := make([]int, len(fs))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[string]int{}
	for i, f := range fs {
		for _, name := range append([]string{f.ID}, f.Aliases...) {
			if j, ok := owner[name]; ok {
				parent[find(i)] = find(j)
			} else {
				owner[name] = i
			}
		}
	}
	groups := map[int][]int{}
	var roots []int
	for i := range fs {
		r := find(i)
		if _, ok := groups[r]; !ok {
			roots = append(roots, r)
		}
		groups[r] = append(groups[r], i)
	}
	ord := OrderingFor(ecosystemOfType(c.Type))
	out := make([]vuln.Finding, 0, len(roots))
	for _, r := range roots {
		idx := groups[r]
		best := fs[idx[0]]
		names := map[string]bool{}
		for _, i := range idx {
			f := fs[i]
			names[f.ID] = true
			for _, a := range f.Aliases {
				names[a] = true
			}
			if preferID(f.ID, best.ID) {
				best.ID, best.Summary, best.URL = f.ID, f.Summary, f.URL
			}
			if f.Reach.Rank() > best.Reach.Rank() {
				best.Reach = f.Reach
			}
			if vuln.SeverityRank(f.Severity) > vuln.SeverityRank(best.Severity) {
				best.Severity, best.CVSS = f.Severity, f.CVSS
			}
			if ord != nil && f.Fixed != "" && (best.Fixed == "" || compareV(ord, f.Fixed, best.Fixed) > 0) {
				best.Fixed = f.Fixed
			}
			for _, s := range f.Symbols {
				best.Symbols = appendUnique(best.Symbols, s)
			}
			for _, p := range f.Packages {
				best.Packages = appendUnique(best.Packages, p)
			}
		}
		delete(names, best.ID)
		best.Aliases = best.Aliases[:0]
		for n := range names {
			best.Aliases = append(best.Aliases, n)
		}
		sort.Strings(best.Aliases)
		if len(best.Aliases) == 0 {
			best.Aliases = nil
		}
		out = append(out, best)
	}
	return out
}

func ecosystemOfType(t sbom.Type) string {
	switch t {
	case sbom.TypeDeb:
		return "Debian"
	case sbom.TypeApk:
		return "Alpine"
	}
	return "Go"
}

// preferID chooses the name of a merged finding: the Go database's GO-
// IDs first, then GHSA, then distribution advisories, then CVEs.
func preferID(a, b string) bool {
	rank := func(id string) int {
		switch {
		case strings.HasPrefix(id, "GO-"):
			return 0
		case strings.HasPrefix(id, "GHSA-"):
			return 1
		case strings.HasPrefix(id, "CVE-"):
			return 3
		}
		return 2
	}
	if rank(a) != rank(b) {
		return rank(a) < rank(b)
	}
	return a < b
}

// sortFindings orders findings for reports: reachable first, then
// severity, then ID. Findings are large: a permutation is sorted and
// applied once, instead of swapping structs.
func sortFindings(fs []vuln.Finding) {
	idx := make([]int, len(fs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool {
		a, b := &fs[idx[i]], &fs[idx[j]]
		if a.Reach.Rank() != b.Reach.Rank() {
			return a.Reach.Rank() > b.Reach.Rank()
		}
		if vuln.SeverityRank(a.Severity) != vuln.SeverityRank(b.Severity) {
			return vuln.SeverityRank(a.Severity) > vuln.SeverityRank(b.Severity)
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Component.Path < b.Component.Path
	})
	sorted := make([]vuln.Finding, len(fs))
	for i, j := range idx {
		sorted[i] = fs[j]
	}
	copy(fs, sorted)
}

// SortFindings orders findings as reports show them.
func SortFindings(fs []vuln.Finding) { sortFindings(fs) }

// SeverityAtLeast reports whether sev is at least min; unknown is below
// every level.
func SeverityAtLeast(sev, min string) bool {
	return vuln.SeverityRank(sev) >= vuln.SeverityRank(min)
}
