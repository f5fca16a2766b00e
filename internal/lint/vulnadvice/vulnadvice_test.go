package vulnadvice

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/redline-go/redline/internal/vuln/db"
	"github.com/redline-go/redline/internal/vuln/match"
	"github.com/redline-go/redline/internal/vuln/osv"
)

type fakeDB map[string][]*osv.Entry

func (d fakeDB) Lookup(eco, name string) []*osv.Entry { return d[eco+"/"+name] }

func entry(id, pkg, fixed string) *osv.Entry {
	return &osv.Entry{ID: id, Affected: []osv.Affected{{
		Package: osv.Package{Ecosystem: osv.EcosystemGo, Name: pkg},
		Ranges:  []osv.Range{{Type: "SEMVER", Events: []osv.Event{{Introduced: "0"}, {Fixed: fixed}}}},
	}}}
}

func TestStdlibFix(t *testing.T) {
	db := fakeDB{
		osv.EcosystemGo + "/stdlib":    {entry("GO-2026-0001", "stdlib", "1.26.9"), entry("GO-2026-0002", "stdlib", "1.26.10")},
		osv.EcosystemGo + "/toolchain": {entry("GO-2026-0003", "toolchain", "1.26.9")},
	}
	opened := 0
	a := New(func() (match.DB, error) { opened++; return db, nil })
	fixed, ids, err := a.StdlibFix("go1.26.8")
	if err != nil || fixed != "go1.26.10" {
		t.Fatalf("StdlibFix(go1.26.8) = %q, %v, %v", fixed, ids, err)
	}
	if diff := cmp.Diff([]string{"GO-2026-0001", "GO-2026-0002", "GO-2026-0003"}, ids); diff != "" {
		t.Errorf("advisories (-want +got):\n%s", diff)
	}
	if fixed, ids, err := a.StdlibFix("go1.26.10"); fixed != "" || ids != nil || err != nil {
		t.Errorf("StdlibFix(go1.26.10) = %q, %v, %v", fixed, ids, err)
	}
	if opened != 1 {
		t.Errorf("data opened %d times", opened)
	}
	bad := New(func() (match.DB, error) { return nil, errors.New("no data") })
	if _, _, err := bad.StdlibFix("go1.26.8"); err == nil {
		t.Error("no error without data")
	}
}

// TestEmbeddedData holds DESIGN.md's facts about the embedded snapshot:
// go1.26.8 has 16 standard-library and toolchain advisories, cleared by
// go1.26.10; go1.27.3 has none.
func TestEmbeddedData(t *testing.T) {
	a := New(func() (match.DB, error) { return db.Open(db.Options{CacheDir: t.TempDir()}) })
	fixed, ids, err := a.StdlibFix("go1.26.8")
	if err != nil {
		t.Fatal(err)
	}
	if fixed != "go1.26.10" || len(ids) != 16 {
		t.Errorf("go1.26.8: fixed in %q by clearing %d advisories %v; DESIGN.md says go1.26.10 and 16", fixed, len(ids), ids)
	}
	if fixed, ids, err := a.StdlibFix("go1.27.3"); fixed != "" || len(ids) != 0 || err != nil {
		t.Errorf("go1.27.3: %q %v %v", fixed, ids, err)
	}
}
