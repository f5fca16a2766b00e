package match

import (
	"fmt"
	"sort"
	"strings"

	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/vuln"
	"github.com/redline-go/redline/internal/vuln/osv"
)

// Fixes computes, per vulnerable component, the smallest version that
// clears all its findings: the highest of the findings' fixed versions,
// checked against the data (a fix of one advisory may itself be affected
// by another) and raised until nothing matches. For the standard library
// it also names the newest release the data knows of, when that clears
// everything too (the other way out: a Go line that is not patched any
// more, or the freshest toolchain). Suppressed findings need no fix.
func Fixes(fs []vuln.Finding, d DB) []vuln.Fix {
	type key struct{ typ, name, from string }
	groups := map[key][]vuln.Finding{}
	var keys []key
	for _, f := range fs {
		if f.Suppressed != nil {
			continue
		}
		k := key{f.Component.Type, f.Component.Name, f.Component.Version}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], f)
	}
	var out []vuln.Fix
	for _, k := range keys {
		eco, names := "Go", []string{k.name}
		switch k.typ {
		case "go-stdlib":
			names = []string{"stdlib"}
		case "deb", "apk":
			eco = "" // OS fixes come from the distribution: advice, no re-check
		}
		ord := OrderingFor(ecosystemOfType(sbom.Type(k.typ)))
		fix := vuln.Fix{Kind: kindOf(k.typ), Name: k.name, From: k.from}
		for _, f := range groups[k] {
			fix.Clears = append(fix.Clears, f.ID)
			if f.Fixed == "" {
				fix.Unfixable = append(fix.Unfixable, f.ID)
				continue
			}
			if fix.To == "" || compareV(ord, f.Fixed, fix.To) > 0 {
				fix.To = f.Fixed
			}
		}
		sort.Strings(fix.Clears)
		if fix.To != "" && eco != "" {
			fix.To = raise(d, eco, names, fix.To, ord)
		}
		if k.typ == "go-stdlib" {
			if newest := newestRelease(d, ord); newest != "" && (fix.To == "" || compareV(ord, newest, fix.To) > 0) && clean(d, eco, names, newest, ord) {
				fix.Newest = "go" + newest
			}
			if fix.To != "" {
				fix.To = "go" + fix.To
				fix.Command = "go get toolchain@" + fix.To
			}
		} else if fix.To != "" {
			switch fix.Kind {
			case "module":
				fix.Command = fmt.Sprintf("go get %s@v%s", k.name, strings.TrimPrefix(fix.To, "v"))
				fix.To = "v" + strings.TrimPrefix(fix.To, "v")
			case "package":
				fix.Command = fmt.Sprintf("upgrade %s to %s (from the distribution)", k.name, fix.To)
			}
		}
		out = append(out, fix)
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].Clears) > len(out[j].Clears) })
	return out
}

func kindOf(t string) string {
	switch t {
	case "go-stdlib":
		return "toolchain"
	case "deb", "apk":
		return "package"
	}
	return "module"
}

// raise returns the smallest version at or above v that no entry for the
// names affects, following fixed versions at most a few times.
func raise(d DB, eco string, names []string, v string, ord Ordering) string {
	for range 8 {
		next := ""
		for _, name := range names {
			for _, e := range d.Lookup(eco, name) {
				for _, a := range e.Affected {
					if a.Package.Name != name {
						continue
					}
					hit, fixed, err := Affects(a, ord, v)
					if err != nil || !hit {
						continue
					}
					if fixed == "" {
						return v // affected with no fix: the caller lists it unfixable
					}
					if next == "" || compareV(ord, fixed, next) > 0 {
						next = fixed
					}
				}
			}
		}
		if next == "" {
			return v
		}
		v = next
	}
	return v
}

func clean(d DB, eco string, names []string, v string, ord Ordering) bool {
	for _, name := range names {
		for _, e := range d.Lookup(eco, name) {
			for _, a := range e.Affected {
				if a.Package.Name != name {
					continue
				}
				if hit, _, _ := Affects(a, ord, v); hit {
					return false
				}
			}
		}
	}
	return true
}

// newestRelease is the highest stable stdlib version any advisory names
// as fixed: the newest release the data knows of.
func newestRelease(d DB, ord Ordering) string {
	newest := ""
	for _, e := range d.Lookup(osv.EcosystemGo, "stdlib") {
		for _, a := range e.Affected {
			for _, r := range a.Ranges {
				for _, ev := range r.Events {
					if ev.Fixed == "" || strings.Contains(ev.Fixed, "-") {
						continue
					}
					if newest == "" || compareV(ord, ev.Fixed, newest) > 0 {
						newest = ev.Fixed
					}
				}
			}
		}
	}
	return newest
}
