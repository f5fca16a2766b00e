// Package dbtest builds offline vulnerability databases for tests: OSV
// entries written as files, zips and module proxies, opened with
// [db.OpenDir].
package dbtest

import (
	"archive/zip"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/vuln/db"
	"github.com/redline-go/redline/internal/vuln/osv"
)

// Date is the modified date of the entries [Entry] makes.
var Date = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

// Entry returns an OSV entry with id affecting the given packages.
func Entry(id string, affected ...osv.Affected) osv.Entry {
	return osv.Entry{SchemaVersion: "1.3.1", ID: id, Modified: Date, Summary: "test entry " + id, Affected: affected}
}

// Affected returns a package of ecosystem with one range of rangeType
// ("SEMVER" or "ECOSYSTEM") made of alternating introduced and fixed
// versions: Affected("Go", "stdlib", "SEMVER", "0", "1.26.9") affects
// every version before 1.26.9. An odd count leaves the last range open.
func Affected(ecosystem, name, rangeType string, introFixed ...string) osv.Affected {
	r := osv.Range{Type: rangeType}
	for i, v := range introFixed {
		if i%2 == 0 {
			r.Events = append(r.Events, osv.Event{Introduced: v})
		} else {
			r.Events = append(r.Events, osv.Event{Fixed: v})
		}
	}
	a := osv.Affected{Package: osv.Package{Ecosystem: ecosystem, Name: name}}
	if len(r.Events) > 0 {
		a.Ranges = []osv.Range{r}
	}
	return a
}

// JSON encodes e.
func JSON(t testing.TB, e osv.Entry) []byte {
	t.Helper()
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Files returns entries as OSV files named ID.json.
func Files(t testing.TB, entries ...osv.Entry) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	for _, e := range entries {
		files[e.ID+".json"] = JSON(t, e)
	}
	return files
}

// WriteFiles writes files (relative names) under dir.
func WriteFiles(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// WriteZip writes files into a zip at path, members in name order.
func WriteZip(t testing.TB, path string, files map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(files[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// Open returns a database of just entries.
func Open(t testing.TB, entries ...osv.Entry) *db.DB {
	t.Helper()
	dir := t.TempDir()
	WriteFiles(t, dir, Files(t, entries...))
	d, err := db.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if w := d.Warnings(); len(w) > 0 {
		t.Fatalf("warnings: %q", w)
	}
	return d
}

// ModuleProxy writes a module proxy directory (usable as GOPROXY=file://DIR)
// serving golang.org/x/vulndb at version with entries under data/osv,
// plus extra files of the module zip (names relative to the module root).
// It returns the directory.
func ModuleProxy(t testing.TB, dir, version string, entries []osv.Entry, extra map[string][]byte) string {
	t.Helper()
	const mod = "golang.org/x/vulndb"
	files := map[string][]byte{mod + "@" + version + "/go.mod": []byte("module " + mod + "\n")}
	for name, b := range Files(t, entries...) {
		files[mod+"@"+version+"/data/osv/"+name] = b
	}
	for name, b := range extra {
		files[mod+"@"+version+"/"+name] = b
	}
	vdir := filepath.Join(dir, mod, "@v")
	WriteZip(t, filepath.Join(vdir, version+".zip"), files)
	info, _ := json.Marshal(map[string]any{"Version": version, "Time": versionTime(version)})
	WriteFiles(t, vdir, map[string][]byte{
		version + ".info": info,
		version + ".mod":  []byte("module " + mod + "\n"),
		"list":            nil,
	})
	WriteFiles(t, filepath.Join(dir, mod), map[string][]byte{"@latest": info})
	return dir
}

// versionTime parses a pseudo-version's time (v0.0.0-YYYYMMDDhhmmss-hash).
func versionTime(v string) time.Time {
	if len(v) >= len("v0.0.0-20060102150405") {
		if t, err := time.Parse("20060102150405", v[len("v0.0.0-"):len("v0.0.0-20060102150405")]); err == nil {
			return t
		}
	}
	return Date
}
