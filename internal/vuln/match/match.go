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
	"cmp"
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
//
// Findings of one component are worked out once per distinct (component
// versions, platform, function table) and shared: an image whose binaries
// link the same modules at the same versions pays for each combination
// once. The findings share their read-only slices (Aliases, Packages,
// Symbols; all with len == cap, so an append copies); callers must not
// modify their elements in place.
func Match(s *sbom.SBOM, d DB, o Options) ([]vuln.Finding, []string) {
	m := &matcher{
		db: d, opts: o, tables: map[string]Symbols{}, platforms: map[string][2]string{}, ranges: rangeCache{},
		hits: map[targetsKey]*hitSet{}, templates: map[templateKey][]vuln.Finding{},
		urls: map[*osv.Entry]string{}, present: map[string]map[string]bool{},
	}
	for _, c := range s.Components {
		if c.Type == sbom.TypeBinary && c.Go != nil {
			m.platforms[c.Path] = [2]string{c.Go.Get("GOOS"), c.Go.Get("GOARCH")}
		}
	}
	// First the shared findings of each component, then one allocation of
	// the result, filled in report order: sorting small keys and copying
	// each finding once beats sorting the findings themselves.
	per := make([][]vuln.Finding, len(s.Components))
	total := 0
	for i := range s.Components {
		per[i] = m.component(s, &s.Components[i])
		total += len(per[i])
	}
	if total == 0 {
		return nil, m.warnings
	}
	// IDs and paths are ranked once, so that sorting compares integers.
	idRank, pathRank := map[string]uint32{}, map[string]uint32{}
	var ids, paths []string
	for i := range per {
		if _, ok := pathRank[s.Components[i].Path]; !ok && len(per[i]) > 0 {
			pathRank[s.Components[i].Path] = 0
			paths = append(paths, s.Components[i].Path)
		}
		for j := range per[i] {
			if _, ok := idRank[per[i][j].ID]; !ok {
				idRank[per[i][j].ID] = 0
				ids = append(ids, per[i][j].ID)
			}
		}
	}
	slices.Sort(ids)
	slices.Sort(paths)
	for r, id := range ids {
		idRank[id] = uint32(r)
	}
	for r, p := range paths {
		pathRank[p] = uint32(r)
	}
	keys := make([]sortKey, 0, total)
	for i := range per {
		pr := uint64(pathRank[s.Components[i].Path])
		for j := range per[i] {
			f := &per[i][j]
			// Reachable first, then severity, ID, path; the
			// position in component order keeps the sort stable.
			hi := uint64(3-f.Reach.Rank())<<61 | uint64(4-vuln.SeverityRank(f.Severity))<<58 | uint64(idRank[f.ID])<<26 | pr>>6
			lo := pr<<58 | uint64(len(keys))
			keys = append(keys, sortKey{hi: hi, lo: lo, comp: int32(i), idx: int32(j)})
		}
	}
	slices.SortFunc(keys, func(a, b sortKey) int {
		if c := cmp.Compare(a.hi, b.hi); c != 0 {
			return c
		}
		return cmp.Compare(a.lo, b.lo)
	})
	out := make([]vuln.Finding, len(keys))
	refs := make([]*vuln.ComponentRef, len(s.Components))
	for k, key := range keys {
		ref := refs[key.comp]
		if ref == nil {
			c := &s.Components[key.comp]
			ref = &vuln.ComponentRef{ID: c.ID, Type: string(c.Type), Name: c.Name, Version: c.Version, PURL: c.PURL, Path: c.Path, Layer: c.Layer}
			refs[key.comp] = ref
		}
		out[k] = per[key.comp][key.idx]
		out[k].Component = *ref
	}
	return out, m.warnings
}

// sortKey places one finding in report order (see sortFindings), packed
// into two integers: 2 bits of reach, 3 of severity, 32 of ID rank, 32 of
// path rank and 58 of position.
type sortKey struct {
	hi, lo    uint64
	comp, idx int32
}

type matcher struct {
	ranges    rangeCache
	sev       map[sevKey]sevResult
	db        DB
	opts      Options
	tables    map[string]Symbols
	platforms map[string][2]string // binary -> GOOS, GOARCH
	warnings  []string

	hits      map[targetsKey]*hitSet
	templates map[templateKey][]vuln.Finding
	urls      map[*osv.Entry]string
	present   map[string]map[string]bool // binary -> packages in its function table
}

// target is where one component is looked up.
type target struct {
	ecosystem, name, version string
}

// targetsKey names the targets of a component (at most two: stdlib and
// toolchain).
type targetsKey struct {
	n int
	t [2]target
}

// hitSet is what the data says about some targets: the affected records
// that match, and the warnings matching them gave (repeated for every
// component that has these targets, as before the cache).
type hitSet struct {
	hits  []hit
	warns []string
}

type hit struct {
	e     *osv.Entry
	a     *osv.Affected
	fixed string
	// warnsBefore counts the warnings matching gave before this hit.
	warnsBefore int
}

// templateKey is everything a component's findings depend on besides the
// component's own names: its targets (hits), its type, its source package
// (OS packages), the platform of its binary and, when the binary's
// function table was read, the binary.
type templateKey struct {
	hits     *hitSet
	typ      sbom.Type
	source   string
	platform [2]string
	table    string
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

func (m *matcher) component(s *sbom.SBOM, c *sbom.Component) []vuln.Finding {
	ts := m.targets(s, *c)
	if len(ts) == 0 {
		return nil
	}
	hs := m.hitsOf(ts)
	if len(hs.hits) == 0 {
		m.warnings = append(m.warnings, hs.warns...)
		return nil
	}
	k := templateKey{hits: hs, typ: c.Type, source: c.SourceName}
	var tab Symbols
	warned := 0
	if c.Type != sbom.TypeDeb && c.Type != sbom.TypeApk {
		k.platform = m.platforms[c.Path]
		// The function table is read (and its absence warned about) only
		// for a component with a finding on the binary's platform, in the
		// order matching met them.
		for _, h := range hs.hits {
			if _, ok := platformImports(h.a, k.platform); ok {
				m.warnings = append(m.warnings, hs.warns[:h.warnsBefore]...)
				warned = h.warnsBefore
				tab = m.table(c.Path)
				break
			}
		}
		if tab != nil && c.Path != "" {
			k.table = c.Path
		} else {
			tab = nil
		}
	}
	m.warnings = append(m.warnings, hs.warns[warned:]...)
	if fs, ok := m.templates[k]; ok {
		return fs
	}
	found := make([]vuln.Finding, 0, len(hs.hits))
	for _, h := range hs.hits {
		if f, ok := m.finding(k, tab, h); ok {
			found = append(found, f)
		}
	}
	found = mergeAliases(found, c.Type)
	for i := range found {
		f := &found[i]
		f.Aliases, f.Packages, f.Symbols = slices.Clip(f.Aliases), slices.Clip(f.Packages), slices.Clip(f.Symbols)
	}
	found = slices.Clip(found)
	m.templates[k] = found
	return found
}

// hitsOf evaluates the data for ts once per scan.
func (m *matcher) hitsOf(ts []target) *hitSet {
	k := targetsKey{n: len(ts)}
	copy(k.t[:], ts)
	if len(ts) > len(k.t) {
		return m.evaluate(ts) // not cached; no component has more today
	}
	if hs, ok := m.hits[k]; ok {
		return hs
	}
	hs := m.evaluate(ts)
	m.hits[k] = hs
	return hs
}

func (m *matcher) evaluate(ts []target) *hitSet {
	hs := &hitSet{}
	for _, t := range ts {
		ord := OrderingFor(t.ecosystem)
		if ord == nil {
			continue
		}
		v := prepare(ord, t.version)
		for _, e := range m.db.Lookup(t.ecosystem, t.name) {
			for i := range e.Affected {
				a := &e.Affected[i]
				if a.Package.Ecosystem != t.ecosystem || a.Package.Name != t.name {
					continue
				}
				in, fixed, err := affects(a, ord, v, m.ranges)
				if err != nil {
					hs.warns = append(hs.warns, fmt.Sprintf("%s: %s@%s: %v", e.ID, t.name, t.version, err))
					continue
				}
				if in {
					hs.hits = append(hs.hits, hit{e, a, fixed, len(hs.warns)})
				}
			}
		}
	}
	return hs
}

// platformImports returns the vulnerable imports of a that apply to the
// platform, and false when a lists imports but none for the platform.
func platformImports(a *osv.Affected, plat [2]string) ([]osv.Import, bool) {
	if a.EcosystemSpecific == nil || len(a.EcosystemSpecific.Imports) == 0 {
		return nil, true
	}
	all := a.EcosystemSpecific.Imports
	n := 0
	for _, im := range all {
		if platformIn(plat[0], im.GOOS) && platformIn(plat[1], im.GOARCH) {
			n++
		}
	}
	if n == len(all) {
		return all, true
	}
	if n == 0 {
		return nil, false
	}
	out := make([]osv.Import, 0, n)
	for _, im := range all {
		if platformIn(plat[0], im.GOOS) && platformIn(plat[1], im.GOARCH) {
			out = append(out, im)
		}
	}
	return out, true
}

// finding builds one finding, without its component, and grades its
// reachability.
func (m *matcher) finding(k templateKey, tab Symbols, h hit) (vuln.Finding, bool) {
	e, a := h.e, h.a
	sev, vector := m.severity(e, a)
	f := vuln.Finding{
		ID: e.ID, Aliases: slices.Clone(e.Aliases), Summary: e.Summary, Severity: sev, CVSS: vector,
		Fixed: h.fixed,
		URL:   m.url(e),
	}
	switch k.typ {
	case sbom.TypeDeb, sbom.TypeApk:
		f.Reach = vuln.Installed
		if k.source != "" {
			f.Packages = []string{k.source}
		}
		return f, true
	}
	// Go: grade by the binary's function table.
	imports, ok := platformImports(a, k.platform)
	if !ok {
		return f, false // only vulnerable on other platforms than the binary's
	}
	f.Reach = vuln.Required
	if tab == nil {
		return f, true
	}
	present := m.present[k.table]
	if present == nil {
		present = map[string]bool{}
		for _, p := range tab.Packages() {
			present[p] = true
		}
		m.present[k.table] = present
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

func (m *matcher) url(e *osv.Entry) string {
	u, ok := m.urls[e]
	if !ok {
		u = advisoryURL(e)
		m.urls[e] = u
	}
	return u
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
func mergeAliases(fs []vuln.Finding, typ sbom.Type) []vuln.Finding {
	if len(fs) < 2 {
		return fs
	}
	if distinctNames(fs) {
		// Nothing to merge: each finding only gets its aliases in the
		// merged form (sorted, unique, without its own ID), which the
		// data's usually are already.
		for i := range fs {
			fs[i].Aliases = normalAliases(fs[i].ID, fs[i].Aliases)
		}
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
	ord := OrderingFor(ecosystemOfType(typ))
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

// distinctNames reports whether no name (ID or alias) is shared by two of
// fs.
func distinctNames(fs []vuln.Finding) bool {
	type owned struct {
		name  string
		owner int
	}
	n := 0
	for _, f := range fs {
		n += 1 + len(f.Aliases)
	}
	names := make([]owned, 0, n)
	for i, f := range fs {
		names = append(names, owned{f.ID, i})
		for _, a := range f.Aliases {
			names = append(names, owned{a, i})
		}
	}
	slices.SortFunc(names, func(a, b owned) int { return strings.Compare(a.name, b.name) })
	for i := 1; i < len(names); i++ {
		if names[i].name == names[i-1].name && names[i].owner != names[i-1].owner {
			return false
		}
	}
	return true
}

// normalAliases returns aliases sorted, without duplicates and without id;
// nil when none is left. Aliases already in that form are returned as they
// are.
func normalAliases(id string, aliases []string) []string {
	ok := true
	for i, a := range aliases {
		if a == id || (i > 0 && aliases[i-1] >= a) {
			ok = false
			break
		}
	}
	if ok {
		if len(aliases) == 0 {
			return nil
		}
		return aliases
	}
	out := slices.Clone(aliases)
	slices.Sort(out)
	out = slices.Compact(out)
	out = slices.DeleteFunc(out, func(a string) bool { return a == id })
	if len(out) == 0 {
		return nil
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
