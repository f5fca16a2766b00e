package match

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/vuln"
	"github.com/redline-go/redline/internal/vuln/osv"
)

type fakeDB []*osv.Entry

func (d fakeDB) Lookup(eco, name string) []*osv.Entry {
	var out []*osv.Entry
	for _, e := range d {
		for _, a := range e.Affected {
			if a.Package.Ecosystem == eco && a.Package.Name == name {
				out = append(out, e)
				break
			}
		}
	}
	return out
}

func goEntry(id, mod string, events []osv.Event, imports ...osv.Import) *osv.Entry {
	return &osv.Entry{ID: id, Affected: []osv.Affected{{
		Package:           osv.Package{Ecosystem: "Go", Name: mod},
		Ranges:            []osv.Range{{Type: "SEMVER", Events: events}},
		EcosystemSpecific: &osv.EcosystemSpecific{Imports: imports},
	}}}
}

func ev(intro, fixed string) []osv.Event {
	out := []osv.Event{{Introduced: intro}}
	if fixed != "" {
		out = append(out, osv.Event{Fixed: fixed})
	}
	return out
}

func TestAffects(t *testing.T) {
	ord := OrderingFor("Go")
	for _, tc := range []struct {
		name    string
		events  []osv.Event
		v       string
		hit     bool
		fixedAt string
	}{
		{"below fix", ev("0", "0.3.8"), "0.3.7", true, "0.3.8"},
		{"at fix", ev("0", "0.3.8"), "0.3.8", false, ""},
		{"pseudo-version before fix", ev("0", "0.3.8"), "0.0.0-20220101000000-abcdef123456", true, "0.3.8"},
		{"before introduced", ev("1.2.0", "1.2.5"), "1.1.9", false, ""},
		{"incompatible", ev("2.0.0", "2.3.0"), "2.1.0+incompatible", true, "2.3.0"},
		{"release candidate", ev("1.27.0-0", "1.27.1"), "1.27.0-rc.1", true, "1.27.1"},
		{"second line", []osv.Event{{Introduced: "0"}, {Fixed: "1.25.12"}, {Introduced: "1.26.0-0"}, {Fixed: "1.26.10"}}, "1.26.8", true, "1.26.10"},
		{"between lines", []osv.Event{{Introduced: "0"}, {Fixed: "1.25.12"}, {Introduced: "1.26.0-0"}, {Fixed: "1.26.10"}}, "1.25.12", false, ""},
		{"unsorted events", []osv.Event{{Fixed: "1.26.10"}, {Introduced: "1.26.0-0"}}, "1.26.3", true, "1.26.10"},
		{"last affected", []osv.Event{{Introduced: "0"}, {LastAffected: "1.4.0"}}, "1.4.0", true, ""},
		{"after last affected", []osv.Event{{Introduced: "0"}, {LastAffected: "1.4.0"}}, "1.4.1", false, ""},
	} {
		hit, fixed, err := Affects(osv.Affected{Ranges: []osv.Range{{Type: "SEMVER", Events: tc.events}}}, ord, tc.v)
		if err != nil || hit != tc.hit || fixed != tc.fixedAt {
			t.Errorf("%s: Affects(%s) = %v, %q, %v; want %v, %q", tc.name, tc.v, hit, fixed, err, tc.hit, tc.fixedAt)
		}
	}
	hit, _, _ := Affects(osv.Affected{Versions: []string{"1.0.1"}}, ord, "1.0.1")
	if !hit {
		t.Error("explicit versions list not matched")
	}
	if _, _, err := Affects(osv.Affected{Ranges: []osv.Range{{Type: "SEMVER", Events: ev("0", "not-a-version")}}}, ord, "1.0.0"); err == nil {
		t.Error("invalid version in data accepted silently")
	}
}

func TestDistroOrderings(t *testing.T) {
	deb := OrderingFor("Debian:12")
	for _, tc := range [][3]string{
		{"3.0.11-1~deb12u2", "3.0.15-1~deb12u1", "-1"},
		{"1:1.2.13.dfsg-1", "1.3", "1"}, // the epoch wins
		{"2.36-9+deb12u4", "2.36-9+deb12u10", "-1"},
		{"1.0~rc1", "1.0", "-1"},
	} {
		c, err := deb.Compare(tc[0], tc[1])
		if err != nil || (c < 0) != (tc[2] == "-1") || (c > 0) != (tc[2] == "1") {
			t.Errorf("deb %s vs %s = %d, %v; want %s", tc[0], tc[1], c, err, tc[2])
		}
	}
	apk := OrderingFor("Alpine:v3.20")
	for _, tc := range [][3]string{
		{"1.2.4-r2", "1.2.4-r10", "-1"},
		{"3.3.2-r0", "3.3.1-r5", "1"},
		{"1.36.1_rc1-r0", "1.36.1-r0", "-1"},
	} {
		c, err := apk.Compare(tc[0], tc[1])
		if err != nil || (c < 0) != (tc[2] == "-1") || (c > 0) != (tc[2] == "1") {
			t.Errorf("apk %s vs %s = %d, %v; want %s", tc[0], tc[1], c, err, tc[2])
		}
	}
}

// fakeSymbols is a binary's function table.
type fakeSymbols map[string][]string // package -> symbols

func (f fakeSymbols) Has(pkg, sym string) bool {
	for _, s := range f[pkg] {
		if s == sym {
			return true
		}
	}
	return false
}

func (f fakeSymbols) Packages() []string {
	var out []string
	for p := range f {
		out = append(out, p)
	}
	return out
}

func binarySBOM() *sbom.SBOM {
	return &sbom.SBOM{
		Distro: &sbom.Distro{ID: "debian", VersionID: "12"},
		Components: []sbom.Component{
			{ID: "bin:/app", Type: sbom.TypeBinary, Path: "/app", Go: &sbom.GoBinary{Settings: []sbom.Setting{{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "amd64"}}}},
			{ID: "text", Type: sbom.TypeGoModule, Name: "golang.org/x/text", Version: "v0.3.7", Path: "/app", Layer: 2},
			{ID: "net", Type: sbom.TypeGoModule, Name: "golang.org/x/net", Version: "v0.20.0", Path: "/app", Layer: 2},
			{ID: "main", Type: sbom.TypeGoModule, Name: "example.com/app", Version: "(devel)", Main: true, Path: "/app"},
			{ID: "std", Type: sbom.TypeStdlib, Name: "stdlib", Version: "1.26.8", Path: "/app"},
			{ID: "libssl3", Type: sbom.TypeDeb, Name: "libssl3", Version: "3.0.11-1~deb12u2", SourceName: "openssl", Path: "/var/lib/dpkg/status"},
		},
	}
}

func TestMatchReachability(t *testing.T) {
	db := fakeDB{
		goEntry("GO-2022-1059", "golang.org/x/text", ev("0", "0.3.8"), osv.Import{Path: "golang.org/x/text/language", Symbols: []string{"Parse", "MatchStrings"}}),
		goEntry("GO-2099-0001", "golang.org/x/text", ev("0", "0.4.0"), osv.Import{Path: "golang.org/x/text/unicode/norm", Symbols: []string{"Iter.Next"}}),
		goEntry("GO-2099-0002", "golang.org/x/net", ev("0", "0.23.0"), osv.Import{Path: "golang.org/x/net/html", Symbols: []string{"Parse"}}),
		goEntry("GO-2099-0003", "golang.org/x/net", ev("0", "0.23.0"), osv.Import{Path: "golang.org/x/net/http2", GOOS: []string{"windows"}}),
		goEntry("GO-2026-4000", "stdlib", []osv.Event{{Introduced: "0"}, {Fixed: "1.25.12"}, {Introduced: "1.26.0-0"}, {Fixed: "1.26.10"}}, osv.Import{Path: "net/http", Symbols: []string{"ListenAndServe"}}),
		goEntry("GO-2026-4001", "toolchain", ev("0", "1.26.9"), osv.Import{Path: "cmd/go"}),
		{ID: "GHSA-69ch-w2m2-3vjp", Aliases: []string{"CVE-2022-32149"}, Affected: []osv.Affected{{
			Package: osv.Package{Ecosystem: "Go", Name: "golang.org/x/text"}, Ranges: []osv.Range{{Type: "SEMVER", Events: ev("0", "0.3.8")}},
		}}, DatabaseSpecific: []byte(`{"severity":"HIGH"}`)},
		{ID: "DSA-5999-1", Affected: []osv.Affected{{
			Package: osv.Package{Ecosystem: "Debian:12", Name: "openssl"}, Ranges: []osv.Range{{Type: "ECOSYSTEM", Events: ev("0", "3.0.15-1~deb12u1")}},
		}}, Severity: []osv.Severity{{Type: "CVSS_V3", Score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}},
	}
	db[0].Aliases = []string{"CVE-2022-32149", "GHSA-69ch-w2m2-3vjp"}
	syms := fakeSymbols{
		"golang.org/x/text/language":     {"Parse"},
		"golang.org/x/text/unicode/norm": {"Form.String"},
		"net/http":                       {"ListenAndServe", "(*Server).Serve"},
	}
	fs, warns := Match(binarySBOM(), db, Options{Symbols: func(string) Symbols { return syms }})
	if len(warns) != 0 {
		t.Errorf("warnings: %q", warns)
	}
	type row struct {
		ID, Reach, Severity, Fixed string
		Aliases, Symbols           []string
	}
	var got []row
	for _, f := range fs {
		got = append(got, row{f.ID, string(f.Reach), f.Severity, f.Fixed, f.Aliases, f.Symbols})
	}
	want := []row{
		{"GO-2022-1059", "called", "high", "0.3.8", []string{"CVE-2022-32149", "GHSA-69ch-w2m2-3vjp"}, []string{"golang.org/x/text/language.Parse"}},
		{"GO-2026-4000", "called", "unknown", "1.26.10", nil, []string{"net/http.ListenAndServe"}},
		{"GO-2099-0001", "imported", "unknown", "0.4.0", nil, nil},
		{"DSA-5999-1", "installed", "critical", "3.0.15-1~deb12u1", nil, nil},
		{"GO-2099-0002", "required", "unknown", "0.23.0", nil, nil},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}

	// Without a function table every Go finding is required.
	fs, warns = Match(binarySBOM(), db, Options{Symbols: func(string) Symbols { return nil }})
	for _, f := range fs {
		if f.Component.Type != "deb" && f.Reach != vuln.Required {
			t.Errorf("%s without symbols: %s", f.ID, f.Reach)
		}
	}
	if len(warns) != 1 {
		t.Errorf("warnings = %q, want one for the unreadable table", warns)
	}

	// Source modules also match the toolchain's own advisories.
	fs, _ = Match(binarySBOM(), db, Options{Toolchain: true})
	found := false
	for _, f := range fs {
		found = found || f.ID == "GO-2026-4001"
	}
	if !found {
		t.Error("toolchain advisory not matched with Toolchain set")
	}
}

func TestFixes(t *testing.T) {
	db := fakeDB{
		goEntry("GO-1", "golang.org/x/net", ev("0", "0.23.0")),
		goEntry("GO-2", "golang.org/x/net", ev("0", "0.25.0")),
		goEntry("GO-3", "golang.org/x/net", ev("0.25.0", "0.26.0")), // the fix of GO-2 is itself affected
		goEntry("GO-S1", "stdlib", []osv.Event{{Introduced: "0"}, {Fixed: "1.26.9"}, {Introduced: "1.27.0-0"}, {Fixed: "1.27.2"}}),
		goEntry("GO-S2", "stdlib", []osv.Event{{Introduced: "0"}, {Fixed: "1.26.10"}, {Introduced: "1.27.0-0"}, {Fixed: "1.27.3"}}),
	}
	s := &sbom.SBOM{Components: []sbom.Component{
		{ID: "net", Type: sbom.TypeGoModule, Name: "golang.org/x/net", Version: "v0.20.0", Path: "/app"},
		{ID: "std", Type: sbom.TypeStdlib, Name: "stdlib", Version: "1.26.8", Path: "/app"},
	}}
	fs, _ := Match(s, db, Options{})
	got := Fixes(fs, db)
	want := []vuln.Fix{
		{Kind: "module", Name: "golang.org/x/net", From: "v0.20.0", To: "v0.26.0", Clears: []string{"GO-1", "GO-2"}, Command: "go get golang.org/x/net@v0.26.0"},
		{Kind: "toolchain", Name: "stdlib", From: "1.26.8", To: "go1.26.10", Newest: "go1.27.3", Clears: []string{"GO-S1", "GO-S2"}, Command: "go get toolchain@go1.26.10"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("fixes (-want +got):\n%s", d)
	}
}

func TestCVSS3(t *testing.T) {
	for vec, want := range map[string]float64{
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H": 9.8,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N": 6.1,
		"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N": 5.5,
		"CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:N": 0,
	} {
		if got, ok := CVSS3Score(vec); !ok || got != want {
			t.Errorf("CVSS3Score(%s) = %v, %v; want %v", vec, got, ok, want)
		}
	}
	if _, ok := CVSS3Score("CVSS:3.1/AV:N"); ok {
		t.Error("incomplete vector accepted")
	}
}
