package match_test

import (
	"fmt"
	"testing"

	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/vuln/db"
	"github.com/redline-go/redline/internal/vuln/match"
)

// BenchmarkMatch5000 matches 5,000 components against the embedded
// database: the Go modules that have advisories, repeated until there are
// 5,000, plus a stdlib per binary — at old versions (every component
// vulnerable, the worst case) and at current ones (the usual case).
func BenchmarkMatch5000(b *testing.B) {
	b.Run("all-vulnerable", func(b *testing.B) { benchMatch(b, "v0.0.1", "1.20.0") })
	b.Run("none-vulnerable", func(b *testing.B) { benchMatch(b, "v999.0.0", "1.99.0") })
}

func benchMatch(b *testing.B, modVersion, goVersion string) {
	d, err := db.Open(db.Options{CacheDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	var mods []string
	seen := map[string]bool{}
	for _, id := range d.IDs() {
		e := d.Entry(id)
		for _, a := range e.Affected {
			if a.Package.Ecosystem == "Go" && !seen[a.Package.Name] && a.Package.Name != "stdlib" && a.Package.Name != "toolchain" {
				seen[a.Package.Name] = true
				mods = append(mods, a.Package.Name)
			}
		}
	}
	s := &sbom.SBOM{}
	for i := 0; len(s.Components) < 5000; i++ {
		bin := fmt.Sprintf("/bin/app%d", i/50)
		if i%50 == 0 {
			s.Components = append(s.Components, sbom.Component{ID: "std" + bin, Type: sbom.TypeStdlib, Name: "stdlib", Version: goVersion, Path: bin})
		}
		s.Components = append(s.Components, sbom.Component{ID: fmt.Sprint(i), Type: sbom.TypeGoModule, Name: mods[i%len(mods)], Version: modVersion, Path: bin})
	}
	match.Match(s, d, match.Options{}) // decode the entries once
	b.ResetTimer()
	var n int
	for range b.N {
		fs, _ := match.Match(s, d, match.Options{})
		n = len(fs)
	}
	b.ReportMetric(float64(n), "findings")
}
