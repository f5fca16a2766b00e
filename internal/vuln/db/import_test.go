package db_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/redline-go/redline/internal/vuln/db"
	"github.com/redline-go/redline/internal/vuln/db/dbtest"
	"github.com/redline-go/redline/internal/vuln/osv"
)

var importTime = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

func importOpts(cache string) db.ImportOptions {
	return db.ImportOptions{CacheDir: cache, Now: func() time.Time { return importTime }}
}

// debianAlpine are an osv.dev-like export of two OS ecosystems.
func debianAlpine(t testing.TB) map[string][]byte {
	deb := dbtest.Entry("DEBIAN-CVE-2024-0001", dbtest.Affected("Debian:12", "openssl", "ECOSYSTEM", "0", "3.0.15-1~deb12u1"))
	deb.Modified = time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC)
	files := dbtest.Files(t,
		deb,
		dbtest.Entry("ALPINE-CVE-2024-0001", dbtest.Affected("Alpine:v3.20", "openssl", "ECOSYSTEM", "0", "3.3.2-r0")),
	)
	files["broken.json"] = []byte(`{"id": "DEBIAN-CVE-2024-0002", "affected": [{"package": {"ecosystem": "Debian:12"`)
	return files
}

func TestImport(t *testing.T) {
	cache := t.TempDir()
	zipPath := filepath.Join(t.TempDir(), "os-export.zip")
	dbtest.WriteZip(t, zipPath, debianAlpine(t))

	cs, warnings, err := db.Import(zipPath, importOpts(cache))
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], zipPath+": broken.json: skipped: malformed OSV entry") {
		t.Errorf("warnings = %q, want one naming the zip and its member", warnings)
	}
	want := db.Source{
		Name:       "import:os-export",
		Date:       time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC), // the newest entry's modified
		Entries:    2,
		Ecosystems: map[string]int{"Debian:12": 1, "Alpine:v3.20": 1},
		Path:       filepath.Join(cache, "sources", "os-export.osvpack"),
		Origin:     zipPath,
		Stored:     importTime,
		Skipped:    1,
	}
	if diff := cmp.Diff(want, cs.Source, cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "SkippedSample" }, cmp.Ignore())); diff != "" {
		t.Errorf("imported source (-want +got):\n%s", diff)
	}
	if cs.ID != "os-export" {
		t.Errorf("ID = %q", cs.ID)
	}

	// Open sees the embedded Go data plus the import.
	d, err := db.Open(db.Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	src := d.Sources()
	if len(src) != 2 || !src[0].Embedded || src[1].Name != "import:os-export" || src[1].Skipped != 1 {
		t.Fatalf("sources = %+v", src)
	}
	if got := ids(d.Lookup("Debian:12", "openssl")); !cmp.Equal(got, []string{"DEBIAN-CVE-2024-0001"}) {
		t.Errorf("Debian lookup = %v", got)
	}
	if got := ids(d.Lookup("Alpine:v3.20", "openssl")); !cmp.Equal(got, []string{"ALPINE-CVE-2024-0001"}) {
		t.Errorf("Alpine lookup = %v", got)
	}
	if d.Len() != snapshotEntries+2 {
		t.Errorf("Len = %d", d.Len())
	}
	// The data's age is the oldest source's: the embedded snapshot's.
	if !d.Date().Equal(snapshotDate) {
		t.Errorf("Date = %v, want the embedded snapshot's", d.Date())
	}

	list, err := db.ListSources(cache)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != "os-export" || list[0].Entries != 2 {
		t.Errorf("ListSources = %+v", list)
	}
	// No temporary file is left behind.
	des, _ := os.ReadDir(filepath.Join(cache, "sources"))
	if len(des) != 1 {
		t.Errorf("sources dir holds %d files, want 1", len(des))
	}

	if err := db.RemoveSource(cache, "os-export"); err != nil {
		t.Fatal(err)
	}
	if err := db.RemoveSource(cache, "os-export"); err == nil || !strings.Contains(err.Error(), `no cached source "os-export"`) {
		t.Errorf("removing twice: %v", err)
	}
	if err := db.RemoveSource(cache, "../go"); err == nil {
		t.Error("RemoveSource accepted a path")
	}
	d, err = db.Open(db.Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Sources()) != 1 || len(d.Lookup("Debian:12", "openssl")) != 0 {
		t.Errorf("after remove: sources %+v", d.Sources())
	}
}

func TestImportOptions(t *testing.T) {
	cache := t.TempDir()
	dir := filepath.Join(t.TempDir(), "debian")
	files := debianAlpine(t)
	delete(files, "broken.json")
	dbtest.WriteFiles(t, dir, files)

	o := importOpts(cache)
	o.Name = "bookworm security"
	o.Date = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	cs, warnings, err := db.Import(dir, o)
	if err != nil || len(warnings) != 0 {
		t.Fatal(err, warnings)
	}
	if cs.ID != "bookworm_security" || cs.Name != "import:bookworm_security" || !cs.Date.Equal(o.Date) {
		t.Errorf("source = %+v", cs)
	}
	// Importing the same name again replaces it.
	delete(files, "ALPINE-CVE-2024-0001.json")
	os.Remove(filepath.Join(dir, "ALPINE-CVE-2024-0001.json"))
	if cs, _, err = db.Import(dir, o); err != nil || cs.Entries != 1 {
		t.Fatalf("reimport: %+v %v", cs, err)
	}
	list, _ := db.ListSources(cache)
	if len(list) != 1 || list[0].Entries != 1 {
		t.Errorf("after reimport: %+v", list)
	}
}

func TestImportRefusesAndKeepsOldData(t *testing.T) {
	cache := t.TempDir()
	dir := filepath.Join(t.TempDir(), "data")
	files := debianAlpine(t)
	dbtest.WriteFiles(t, dir, files)
	if _, _, err := db.Import(dir, importOpts(cache)); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(cache, "sources", "data.osvpack"))

	// Nothing valid: an error naming the path, the old data untouched.
	bad := filepath.Join(t.TempDir(), "data")
	dbtest.WriteFiles(t, bad, map[string][]byte{"x.json": []byte(`{"id":`)})
	_, warnings, err := db.Import(bad, importOpts(cache))
	if err == nil || !strings.Contains(err.Error(), bad+": no OSV entries") || len(warnings) != 1 {
		t.Errorf("import of nothing valid: %v, %q", err, warnings)
	}
	// A zip with a path-traversal name is refused as a whole.
	evil := filepath.Join(t.TempDir(), "data.zip")
	dbtest.WriteZip(t, evil, map[string][]byte{"../data.json": files["DEBIAN-CVE-2024-0001.json"], "DEBIAN-CVE-2024-0001.json": files["DEBIAN-CVE-2024-0001.json"]})
	if _, _, err := db.Import(evil, importOpts(cache)); err == nil || !strings.Contains(err.Error(), evil) || !strings.Contains(err.Error(), "insecure") {
		t.Errorf("import of a traversal zip: %v", err)
	}
	after, _ := os.ReadFile(filepath.Join(cache, "sources", "data.osvpack"))
	if string(before) != string(after) {
		t.Error("a failed import changed the stored data")
	}
	if _, _, err := db.Import(dir, db.ImportOptions{CacheDir: cache, Name: "go"}); err == nil {
		t.Error("import named go (the update's file) accepted")
	}
}

func TestOpenCache(t *testing.T) {
	newer := dbtest.Entry("GO-2026-9999", dbtest.Affected("Go", "stdlib", "SEMVER", "0", "1.27.4"))
	older := dbtest.Entry("GO-2020-9999", dbtest.Affected("Go", "stdlib", "SEMVER", "0", "1.15.0"))

	// A newer cached update replaces the embedded snapshot.
	cache := t.TempDir()
	proxy := dbtest.ModuleProxy(t, t.TempDir(), "v0.0.0-20261120120000-0123456789ab", []osv.Entry{newer}, nil)
	if _, err := db.Update(t.Context(), db.UpdateOptions{CacheDir: cache, GOPROXY: "file://" + proxy}); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(db.Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if s := d.Sources(); len(s) != 1 || s[0].Embedded || s[0].Version != "v0.0.0-20261120120000-0123456789ab" || d.Len() != 1 {
		t.Errorf("with a newer update: sources %+v, %d entries", s, d.Len())
	}

	// An older one (written behind redline's back, or by an older
	// redline) is ignored in favour of the embedded snapshot.
	cache2 := t.TempDir()
	proxy2 := dbtest.ModuleProxy(t, t.TempDir(), "v0.0.0-20250101000000-0123456789ab", []osv.Entry{older}, nil)
	if _, err := db.Update(t.Context(), db.UpdateOptions{CacheDir: cache2, GOPROXY: "file://" + proxy2, NoEmbedded: true}); err != nil {
		t.Fatal(err)
	}
	d, err = db.Open(db.Options{CacheDir: cache2})
	if err != nil {
		t.Fatal(err)
	}
	if s := d.Sources(); len(s) != 1 || !s[0].Embedded {
		t.Errorf("with an older update: sources %+v", s)
	}
	d, err = db.Open(db.Options{CacheDir: cache2, NoEmbedded: true})
	if err != nil || d.Len() != 1 || d.Entry("GO-2020-9999") == nil {
		t.Errorf("without the embedded snapshot: %v", err)
	}

	// A damaged cached file is an error naming it, never a silent fallback.
	p := filepath.Join(cache, "go.osvpack")
	b, _ := os.ReadFile(p)
	os.WriteFile(p, b[:len(b)-10], 0o644)
	if _, err := db.Open(db.Options{CacheDir: cache}); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("damaged update: %v", err)
	}
	os.WriteFile(p, []byte("garbage"), 0o644)
	if _, err := db.Open(db.Options{CacheDir: cache}); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("garbage update: %v", err)
	}
	src := filepath.Join(cache2, "sources", "x.osvpack")
	dbtest.WriteFiles(t, filepath.Dir(src), map[string][]byte{"x.osvpack": b[:100]})
	if _, err := db.Open(db.Options{CacheDir: cache2}); err == nil || !strings.Contains(err.Error(), src) {
		t.Errorf("damaged source: %v", err)
	}

	// Temporary files of a writer in progress are not read.
	cache3 := t.TempDir()
	dbtest.WriteFiles(t, filepath.Join(cache3, "sources"), map[string][]byte{".x.osvpack.tmp-1": []byte("partial")})
	dbtest.WriteFiles(t, cache3, map[string][]byte{".go.osvpack.tmp-2": []byte("partial")})
	if d, err := db.Open(db.Options{CacheDir: cache3}); err != nil || len(d.Sources()) != 1 {
		t.Errorf("with temporary files: %v", err)
	}

	// Nothing at all is an error, not an empty database.
	if _, err := db.Open(db.Options{CacheDir: t.TempDir(), NoEmbedded: true}); !errors.Is(err, db.ErrNoData) {
		t.Errorf("no data: %v, want ErrNoData", err)
	}
}

// TestPrecedence: an ID in several sources is taken from the last one
// (imports after the Go data), and is indexed under that one's packages
// only.
func TestPrecedence(t *testing.T) {
	cache := t.TempDir()
	proxy := dbtest.ModuleProxy(t, t.TempDir(), "v0.0.0-20261120120000-0123456789ab", []osv.Entry{
		dbtest.Entry("GO-2026-0001", dbtest.Affected("Go", "example.com/old", "SEMVER", "0", "1.0.0")),
		dbtest.Entry("GO-2026-0002", dbtest.Affected("Go", "example.com/kept", "SEMVER", "0", "1.0.0")),
	}, nil)
	if _, err := db.Update(t.Context(), db.UpdateOptions{CacheDir: cache, GOPROXY: "file://" + proxy}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "fix")
	dbtest.WriteFiles(t, dir, dbtest.Files(t, dbtest.Entry("GO-2026-0001", dbtest.Affected("Go", "example.com/new", "SEMVER", "0", "2.0.0"))))
	if _, _, err := db.Import(dir, importOpts(cache)); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(db.Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 2 || len(d.Lookup("Go", "example.com/old")) != 0 || len(d.Lookup("Go", "example.com/new")) != 1 || len(d.Lookup("Go", "example.com/kept")) != 1 {
		t.Errorf("precedence: len %d, old %d, new %d", d.Len(), len(d.Lookup("Go", "example.com/old")), len(d.Lookup("Go", "example.com/new")))
	}
}
