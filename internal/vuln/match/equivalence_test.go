package match

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/vuln/db"
	"github.com/redline-go/redline/internal/vuln/osv"
)

// extraDB adds hand-made entries to the embedded data: OS packages, Go
// entries that share aliases with real ones (merged findings), entries
// limited to other platforms and entries whose versions do not parse
// (warnings).
type extraDB struct {
	base  DB
	extra fakeDB
}

func (d extraDB) Lookup(eco, name string) []*osv.Entry {
	return append(slices.Clone(d.base.Lookup(eco, name)), d.extra.Lookup(eco, name)...)
}

// TestMatchEqualsReference checks, on generated SBOMs over the embedded
// database, that Match (shared per-component work, one sort of small keys)
// gives exactly the findings and warnings of the straightforward reference
// (refMatch, the implementation it replaced).
func TestMatchEqualsReference(t *testing.T) {
	d, err := db.Open(db.Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	// The Go modules with advisories, and the versions their ranges name.
	type mod struct {
		name     string
		versions []string
		imports  []osv.Import
	}
	var mods []*mod
	byName := map[string]*mod{}
	var stdVersions []string
	var aliased []*osv.Entry
	for _, id := range d.IDs() {
		e := d.Entry(id)
		if len(e.Aliases) > 0 && len(aliased) < 40 {
			aliased = append(aliased, e)
		}
		for _, a := range e.Affected {
			if a.Package.Ecosystem != osv.EcosystemGo {
				continue
			}
			var vs []string
			for _, r := range a.Ranges {
				for _, ev := range r.Events {
					for _, v := range []string{ev.Introduced, ev.Fixed, ev.LastAffected} {
						if v != "" && v != "0" {
							vs = append(vs, v)
						}
					}
				}
			}
			if a.Package.Name == "stdlib" || a.Package.Name == "toolchain" {
				stdVersions = append(stdVersions, vs...)
				continue
			}
			m := byName[a.Package.Name]
			if m == nil {
				m = &mod{name: a.Package.Name}
				byName[a.Package.Name] = m
				mods = append(mods, m)
			}
			m.versions = append(m.versions, vs...)
			if a.EcosystemSpecific != nil {
				m.imports = append(m.imports, a.EcosystemSpecific.Imports...)
			}
		}
	}

	// Hand-made entries.
	var extra fakeDB
	for i, e := range aliased {
		mod := e.Affected[0].Package.Name
		// A GHSA twin of a real entry: merged into it by alias.
		extra = append(extra, &osv.Entry{ID: fmt.Sprintf("GHSA-test-%04d", i), Aliases: slices.Clone(e.Aliases),
			Affected:         []osv.Affected{{Package: osv.Package{Ecosystem: "Go", Name: mod}, Ranges: []osv.Range{{Type: "SEMVER", Events: ev("0", "999.0.0")}}}},
			DatabaseSpecific: []byte(`{"severity":"MODERATE"}`)})
		if i%5 == 0 {
			extra = append(extra, goEntry(fmt.Sprintf("GO-TEST-WIN-%d", i), mod, ev("0", ""), osv.Import{Path: mod + "/win", GOOS: []string{"windows"}, Symbols: []string{"F"}}))
			extra = append(extra, goEntry(fmt.Sprintf("GO-TEST-BAD-%d", i), mod, ev("0", "not.a.version")))
		}
		if i%7 == 0 {
			extra = append(extra, &osv.Entry{ID: fmt.Sprintf("GO-TEST-DUP-%d", i), Aliases: []string{"CVE-TEST-Z", "CVE-TEST-A", "CVE-TEST-A"},
				Affected: []osv.Affected{{Package: osv.Package{Ecosystem: "Go", Name: mod}, Versions: []string{"1.0.0"}, Ranges: []osv.Range{{Type: "SEMVER", Events: ev("0", "2.0.0")}}}}})
		}
	}
	for i, pkg := range []string{"openssl", "glibc", "zlib", "curl"} {
		extra = append(extra,
			&osv.Entry{ID: fmt.Sprintf("DSA-9%03d-1", i), Aliases: []string{fmt.Sprintf("CVE-2026-9%03d", i)}, Affected: []osv.Affected{{
				Package: osv.Package{Ecosystem: "Debian:12", Name: pkg}, Ranges: []osv.Range{{Type: "ECOSYSTEM", Events: ev("0", "3.0.15-1~deb12u1")}},
			}}, Severity: []osv.Severity{{Type: "CVSS_V3", Score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}},
			&osv.Entry{ID: fmt.Sprintf("CVE-2026-9%03d", i), Affected: []osv.Affected{{
				Package: osv.Package{Ecosystem: "Debian:12", Name: pkg}, Ranges: []osv.Range{{Type: "ECOSYSTEM", Events: ev("0", "3.0.16-1")}},
			}}, DatabaseSpecific: []byte(`{"severity":"low"}`)},
			&osv.Entry{ID: fmt.Sprintf("ALPINE-TEST-%d", i), Affected: []osv.Affected{{
				Package: osv.Package{Ecosystem: "Alpine:v3.20", Name: pkg}, Ranges: []osv.Range{{Type: "ECOSYSTEM", Events: ev("0", "1.2.4-r10")}},
			}}},
		)
	}
	data := extraDB{d, extra}

	for seed := range uint64(6) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 42))
			pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
			s := &sbom.SBOM{}
			if seed%3 != 2 {
				s.Distro = &sbom.Distro{ID: []string{"debian", "alpine", "ubuntu"}[seed%3], VersionID: "12.4"}
				if seed%3 == 1 {
					s.Distro.VersionID = "3.20.1"
				}
			}
			tables := map[string]Symbols{}
			platforms := [][2]string{{"linux", "amd64"}, {"windows", "arm64"}, {"", ""}}
			for b := range 25 {
				path := fmt.Sprintf("/bin/app%d", b%20) // some binaries listed twice
				plat := platforms[rng.IntN(len(platforms))]
				s.Components = append(s.Components, sbom.Component{ID: "bin" + path, Type: sbom.TypeBinary, Path: path,
					Go: &sbom.GoBinary{Settings: []sbom.Setting{{Key: "GOOS", Value: plat[0]}, {Key: "GOARCH", Value: plat[1]}}}})
				stdV := pick(append(slices.Clone(stdVersions[:min(len(stdVersions), 30)]), "1.26.8", "1.27.0-rc.1", "1.99.0", "bogus"))
				s.Components = append(s.Components, sbom.Component{ID: "std" + path, Type: sbom.TypeStdlib, Name: "stdlib", Version: stdV, Path: path})
				s.Components = append(s.Components, sbom.Component{ID: "main" + path, Type: sbom.TypeGoModule, Name: "example.com/app", Version: "(devel)", Main: true, Path: path})
				syms := fakeSymbols{}
				for range 40 + rng.IntN(60) {
					m := mods[rng.IntN(len(mods))]
					if rng.IntN(4) == 0 && len(aliased) > 0 {
						m = byName[aliased[rng.IntN(len(aliased))].Affected[0].Package.Name]
						if m == nil {
							continue
						}
					}
					v := "v1.0.0"
					if len(m.versions) > 0 {
						v = "v" + pick(m.versions)
					}
					switch rng.IntN(8) {
					case 0:
						v = "v0.0.0-20200101000000-abcdef123456"
					case 1:
						v = "v2.1.0+incompatible"
					case 2:
						v = "vbogus"
					case 3:
						v = ""
					}
					s.Components = append(s.Components, sbom.Component{ID: fmt.Sprintf("%s@%s%s", m.name, v, path), Type: sbom.TypeGoModule, Name: m.name, Version: v, Path: path, Layer: rng.IntN(3)})
					for _, im := range m.imports {
						if rng.IntN(2) == 0 {
							continue
						}
						syms[im.Path] = append(syms[im.Path], "Unrelated")
						for _, sym := range im.Symbols {
							if rng.IntN(2) == 0 {
								syms[im.Path] = append(syms[im.Path], sym)
							}
						}
					}
				}
				switch rng.IntN(3) {
				case 0:
					tables[path] = syms
				case 1:
					tables[path] = fakeSymbols{} // nothing vulnerable linked
				}
			}
			for i, pkg := range []string{"openssl", "glibc", "zlib", "curl"} {
				for _, typ := range []sbom.Type{sbom.TypeDeb, sbom.TypeApk} {
					s.Components = append(s.Components,
						sbom.Component{ID: fmt.Sprint(typ, i, "a"), Type: typ, Name: "lib" + pkg, SourceName: pkg, Version: "3.0.11-1~deb12u2", Path: "/var/lib/dpkg/status"},
						sbom.Component{ID: fmt.Sprint(typ, i, "b"), Type: typ, Name: pkg, Version: "1.2.4-r2", Path: "/lib/apk/db/installed"},
					)
				}
			}
			opts := Options{Toolchain: seed%2 == 0}
			if seed != 5 {
				opts.Symbols = func(path string) Symbols {
					if t, ok := tables[path]; ok {
						return t
					}
					return nil
				}
			}
			want, wantWarns := refMatch(s, data, opts)
			got, gotWarns := Match(s, data, opts)
			if len(want) < 100 {
				t.Fatalf("only %d findings: the generated set does not exercise matching", len(want))
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("findings (-reference +Match):\n%s", d)
			}
			if d := cmp.Diff(wantWarns, gotWarns); d != "" {
				t.Errorf("warnings (-reference +Match):\n%s", d)
			}
			t.Logf("%d components, %d findings, %d warnings", len(s.Components), len(got), len(gotWarns))
		})
	}
}
