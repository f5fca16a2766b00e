package db_test

import (
	"bytes"
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"golang.org/x/mod/semver"

	"github.com/redline-go/redline/internal/vuln/db"
	"github.com/redline-go/redline/internal/vuln/db/internal/osvpack"
	"github.com/redline-go/redline/internal/vuln/osv"
)

// The pinned snapshot (DESIGN.md, "Vulnerability data").
const (
	snapshotVersion = "v0.0.0-20261105234957-e22db6528018"
	snapshotEntries = 4789
)

var snapshotDate = time.Date(2026, 11, 5, 23, 49, 57, 0, time.UTC)

func openEmbedded(t testing.TB) *db.DB {
	t.Helper()
	d, err := db.Open(db.Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSnapshot(t *testing.T) {
	d := openEmbedded(t)
	src := d.Sources()
	if len(src) != 1 {
		t.Fatalf("sources = %+v, want the embedded snapshot only", src)
	}
	s := src[0]
	if s.Name != "golang.org/x/vulndb" || s.Version != snapshotVersion || !s.Date.Equal(snapshotDate) ||
		s.Entries != snapshotEntries || !s.Embedded || s.Ecosystems["Go"] != snapshotEntries || len(s.Ecosystems) != 1 {
		t.Errorf("embedded source = %+v", s)
	}
	if !d.Date().Equal(snapshotDate) {
		t.Errorf("Date = %v, want %v", d.Date(), snapshotDate)
	}
	if d.Len() != snapshotEntries {
		t.Errorf("Len = %d, want %d", d.Len(), snapshotEntries)
	}
	// Every stored entry decodes, is what its ID says, and validates.
	withdrawn := 0
	for _, id := range d.IDs() {
		e := d.Entry(id)
		if e == nil || e.ID != id {
			t.Fatalf("Entry(%s) = %v", id, e)
		}
		if err := e.Validate(); err != nil {
			t.Errorf("%s: %v", id, err)
		}
		if !e.Withdrawn.IsZero() {
			withdrawn++
		}
	}
	if w := d.Warnings(); len(w) > 0 {
		t.Errorf("warnings: %q", w)
	}
	t.Logf("%d entries, %d withdrawn, %d bytes compressed", d.Len(), withdrawn, len(mustRead(t, "vulndb.zst")))
}

func mustRead(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGo1268Stdlib counts the standard-library and toolchain advisories of
// the embedded data that affect go1.26.8, this machine's Go. The range
// check is deliberately naive (introduced <= v < fixed over SEMVER events)
// and independent of redline's matcher.
func TestGo1268Stdlib(t *testing.T) {
	d := openEmbedded(t)
	const v = "v1.26.8"
	var ids []string
	for _, pkg := range []string{"stdlib", "toolchain"} {
		for _, e := range d.Lookup(osv.EcosystemGo, pkg) {
			if affects(e, pkg, v) && !slices.Contains(ids, e.ID) {
				ids = append(ids, e.ID)
			}
		}
	}
	slices.Sort(ids)
	t.Logf("go1.26.8: %d advisories: %v", len(ids), ids)
	if len(ids) != 16 {
		t.Errorf("go1.26.8 has %d stdlib/toolchain advisories, want 16 (DESIGN.md)", len(ids))
	}
	// The fixes are go1.26.9 and go1.26.10 (DESIGN.md); no range of these
	// entries leaves go1.26.10 affected.
	for _, id := range ids {
		if e := d.Entry(id); affects(e, "stdlib", "v1.26.10") || affects(e, "toolchain", "v1.26.10") {
			t.Errorf("%s still affects go1.26.10", id)
		}
	}
}

func affects(e *osv.Entry, pkg, v string) bool {
	for _, a := range e.Affected {
		if a.Package.Ecosystem != osv.EcosystemGo || a.Package.Name != pkg {
			continue
		}
		for _, r := range a.Ranges {
			if r.Type != osv.RangeSemver {
				continue
			}
			intro := ""
			for _, ev := range r.Events {
				switch {
				case ev.Introduced != "":
					intro = ev.Introduced
				case ev.Fixed != "":
					if intro != "" && le(intro, v) && semver.Compare(v, "v"+ev.Fixed) < 0 {
						return true
					}
					intro = ""
				}
			}
			if intro != "" && le(intro, v) {
				return true
			}
		}
	}
	return false
}

func le(intro, v string) bool { return intro == "0" || semver.Compare("v"+intro, v) <= 0 }

// Loading the embedded database has a 300 ms budget (issue 5); it is
// measured by BenchmarkOpenEmbedded, not asserted in a test: timings fail
// on loaded machines.
func BenchmarkOpenEmbedded(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		if _, err := db.Open(db.Options{CacheDir: dir}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenEmbeddedDecodeAll is what loading would cost if every
// entry were decoded up front: the reason entries are decoded lazily.
func BenchmarkOpenEmbeddedDecodeAll(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		d, err := db.Open(db.Options{CacheDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		for _, id := range d.IDs() {
			d.Entry(id)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	d := openEmbedded(b)
	d.Lookup(osv.EcosystemGo, "stdlib")
	for b.Loop() {
		d.Lookup(osv.EcosystemGo, "stdlib")
		d.Lookup(osv.EcosystemGo, "golang.org/x/net")
	}
}

// TestSnapshotReproducible regenerates the snapshot from the module proxy
// and requires the committed files byte for byte: they are what `go
// generate` makes of the pinned version, nothing else.
func TestSnapshotReproducible(t *testing.T) {
	if os.Getenv("REDLINE_E2E") != "1" {
		t.Skip("needs the Go module proxy; set REDLINE_E2E=1")
	}
	z, err := osvpack.GoModDownload(context.Background(), "go", nil, osvpack.VulnDBModule, snapshotVersion)
	if err != nil {
		t.Fatal(err)
	}
	meta, data, warnings, err := osvpack.BuildSnapshot(z)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) > 0 {
		t.Errorf("warnings: %q", warnings)
	}
	if !bytes.Equal(meta, mustRead(t, osvpack.SnapshotMeta)) {
		t.Errorf("%s differs from the generated one:\n%s", osvpack.SnapshotMeta, meta)
	}
	if !bytes.Equal(data, mustRead(t, osvpack.SnapshotData)) {
		t.Errorf("%s differs from the generated one (%d bytes generated); run go generate ./internal/vuln/db", osvpack.SnapshotData, len(data))
	}
}

// TestUpdateFromRealProxy runs `db update` against the real module proxy
// ($GOPROXY, else go env GOPROXY) for the pinned version, cache only: it
// must store what the embedded snapshot holds.
func TestUpdateFromRealProxy(t *testing.T) {
	if os.Getenv("REDLINE_E2E") != "1" {
		t.Skip("needs the Go module proxy; set REDLINE_E2E=1")
	}
	cache := t.TempDir()
	res, err := db.Update(t.Context(), db.UpdateOptions{
		CacheDir: cache, Version: snapshotVersion, NoEmbedded: true,
		GOPROXY: db.ResolveGOPROXY(t.Context(), nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Fetched[0].Source
	emb := openEmbedded(t).Sources()[0]
	if !res.Fetched[0].Written || s.Entries != snapshotEntries || s.Sum != emb.Sum || !s.Date.Equal(snapshotDate) || len(res.Warnings) != 0 {
		t.Errorf("fetched %+v (warnings %q), want the embedded snapshot's data %+v", s, res.Warnings, emb)
	}
	d, err := db.Open(db.Options{CacheDir: cache, NoEmbedded: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != snapshotEntries || len(d.Lookup(osv.EcosystemGo, "stdlib")) != len(openEmbedded(t).Lookup(osv.EcosystemGo, "stdlib")) {
		t.Errorf("cached data: %d entries", d.Len())
	}
}
