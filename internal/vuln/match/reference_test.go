package match

// The reference matcher: the straightforward implementation that Match
// replaced (every component matched on its own, findings copied, a stable
// sort of the findings themselves), kept to check that the optimised path
// gives identical findings and warnings.

import (
	"fmt"
	"slices"
	"sort"

	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/vuln"
	"github.com/redline-go/redline/internal/vuln/osv"
)

func refMatch(s *sbom.SBOM, d DB, o Options) ([]vuln.Finding, []string) {
	m := &refMatcher{db: d, opts: o, tables: map[string]Symbols{}, platforms: map[string][2]string{}, ranges: refRangeCache{}}
	for _, c := range s.Components {
		if c.Type == sbom.TypeBinary && c.Go != nil {
			m.platforms[c.Path] = [2]string{c.Go.Get("GOOS"), c.Go.Get("GOARCH")}
		}
	}
	var out []vuln.Finding
	for _, c := range s.Components {
		out = append(out, m.component(s, c)...)
	}
	refSortFindings(out)
	return out, m.warnings
}

type refMatcher struct {
	ranges    refRangeCache
	db        DB
	opts      Options
	tables    map[string]Symbols
	platforms map[string][2]string
	warnings  []string
}

type refRangeCache map[*osv.Range][]refEvent

type refEvent struct {
	kind, version string
}

// refTargets runs the real targets (which only reads options and appends
// warnings) for the reference.
func refTargets(m *refMatcher, s *sbom.SBOM, c sbom.Component) []target {
	mm := &matcher{opts: m.opts}
	ts := mm.targets(s, c)
	m.warnings = append(m.warnings, mm.warnings...)
	return ts
}

func (m *refMatcher) severity(e *osv.Entry, a *osv.Affected) (string, string) {
	return severityOf(e, a)
}

func (m *refMatcher) table(path string) Symbols {
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

func (m *refMatcher) component(s *sbom.SBOM, c sbom.Component) []vuln.Finding {
	var found []vuln.Finding
	for _, t := range refTargets(m, s, c) {
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
				hit, fixed, err := refAffects(a, ord, t.version, m.ranges)
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
	return refMergeAliases(found, c)
}

// finding builds one finding and grades its reachability.
func (m *refMatcher) finding(c sbom.Component, e *osv.Entry, a osv.Affected, fixed string) (vuln.Finding, bool) {
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

func refMergeAliases(fs []vuln.Finding, c sbom.Component) []vuln.Finding {
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

func refSortFindings(fs []vuln.Finding) {
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

func refAffects(a *osv.Affected, ord Ordering, v string, cache refRangeCache) (affected bool, fixed string, err error) {
	if slices.Contains(a.Versions, v) {
		affected = true
	}
	for i := range a.Ranges {
		r := &a.Ranges[i]
		if r.Type == osv.RangeGit {
			continue
		}
		evs, ok := cache[r]
		if !ok {
			evs, err = refSortedEvents(r, ord)
			if err != nil {
				return false, "", err
			}
			if cache != nil {
				cache[r] = evs
			}
		}
		in, fx, err := refInRange(evs, ord, v)
		if err != nil {
			return false, "", err
		}
		if in {
			affected = true
			if fx != "" && (fixed == "" || compareV(ord, fx, fixed) < 0) {
				fixed = fx
			}
		}
	}
	return affected, fixed, nil
}

// sortedEvents orders a range's events the way the OSV schema says.
func refSortedEvents(r *osv.Range, ord Ordering) ([]refEvent, error) {
	evs := make([]refEvent, 0, len(r.Events))
	for _, e := range r.Events {
		switch {
		case e.Introduced != "":
			evs = append(evs, refEvent{"introduced", e.Introduced})
		case e.Fixed != "":
			evs = append(evs, refEvent{"fixed", e.Fixed})
		case e.LastAffected != "":
			evs = append(evs, refEvent{"last_affected", e.LastAffected})
		}
	}
	var sortErr error
	sort.SliceStable(evs, func(i, j int) bool {
		c, err := ord.Compare(evs[i].version, evs[j].version)
		if err != nil && sortErr == nil {
			sortErr = err
		}
		if c != 0 {
			return c < 0
		}
		// At one version, a fix or last_affected closes what came before
		// and an introduction opens what comes after.
		return evs[i].kind != "introduced" && evs[j].kind == "introduced"
	})
	return evs, sortErr
}

// inRange evaluates sorted events: v is affected when the last event at
// or below it is an introduction (or it is at most a last_affected after
// one).
func refInRange(evs []refEvent, ord Ordering, v string) (bool, string, error) {
	affected := false
	for _, e := range evs {
		c, err := ord.Compare(e.version, v)
		if err != nil {
			return false, "", fmt.Errorf("range event %s %q: %w", e.kind, e.version, err)
		}
		switch e.kind {
		case "introduced":
			if c <= 0 {
				affected = true
			} else {
				return affected, "", nil
			}
		case "fixed":
			if c <= 0 {
				affected = false
			} else {
				if affected {
					return true, e.version, nil
				}
				return false, "", nil
			}
		case "last_affected":
			if c < 0 {
				affected = false
			} else {
				return affected, "", nil
			}
		}
	}
	return affected, "", nil
}
