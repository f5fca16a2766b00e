package db_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/redline-go/redline/internal/vuln/db"
	"github.com/redline-go/redline/internal/vuln/db/dbtest"
	"github.com/redline-go/redline/internal/vuln/db/internal/osvpack"
	"github.com/redline-go/redline/internal/vuln/osv"
)

func ids(entries []*osv.Entry) []string {
	out := []string{}
	for _, e := range entries {
		out = append(out, e.ID)
	}
	return out
}

// fixture is a small database across three ecosystems, with a withdrawn
// entry and one of an ecosystem redline does not match.
func fixture(t testing.TB) []osv.Entry {
	withdrawn := dbtest.Entry("GO-2024-0003", dbtest.Affected("Go", "example.com/a", "SEMVER", "0", "1.2.0"))
	withdrawn.Withdrawn = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	return []osv.Entry{
		dbtest.Entry("GO-2024-0002", dbtest.Affected("Go", "example.com/a", "SEMVER", "0", "1.1.0")),
		dbtest.Entry("GO-2024-0001", dbtest.Affected("Go", "example.com/a", "SEMVER", "1.0.0", "1.0.5"),
			dbtest.Affected("Go", "example.com/b", "SEMVER", "0", "2.0.0")),
		withdrawn,
		dbtest.Entry("GO-2024-0004", dbtest.Affected("Go", "stdlib", "SEMVER", "0", "1.26.9")),
		dbtest.Entry("DEBIAN-CVE-2024-0001", dbtest.Affected("Debian:12", "openssl", "ECOSYSTEM", "0", "3.0.15-1~deb12u1")),
		dbtest.Entry("ALPINE-CVE-2024-0001", dbtest.Affected("Alpine:v3.20", "openssl", "ECOSYSTEM", "0", "3.3.2-r0")),
		dbtest.Entry("GHSA-xxxx-yyyy-zzzz", dbtest.Affected("npm", "left-pad", "SEMVER", "0", "1.3.0")),
	}
}

func TestLookup(t *testing.T) {
	d := dbtest.Open(t, fixture(t)...)
	for _, tc := range []struct {
		eco, name string
		want      []string
	}{
		// Sorted by ID; the withdrawn GO-2024-0003 is left out.
		{"Go", "example.com/a", []string{"GO-2024-0001", "GO-2024-0002"}},
		{"Go", "example.com/b", []string{"GO-2024-0001"}},
		{"Go", "stdlib", []string{"GO-2024-0004"}},
		{"Debian:12", "openssl", []string{"DEBIAN-CVE-2024-0001"}},
		{"Alpine:v3.20", "openssl", []string{"ALPINE-CVE-2024-0001"}},
		{"npm", "left-pad", []string{"GHSA-xxxx-yyyy-zzzz"}},
		// Exact matches only.
		{"Debian", "openssl", []string{}},
		{"Debian:11", "openssl", []string{}},
		{"go", "example.com/a", []string{}},
		{"Go", "example.com/A", []string{}},
		{"Go", "example.com", []string{}},
	} {
		if diff := cmp.Diff(tc.want, ids(d.Lookup(tc.eco, tc.name))); diff != "" {
			t.Errorf("Lookup(%q, %q) (-want +got):\n%s", tc.eco, tc.name, diff)
		}
	}
	if e := d.Entry("GO-2024-0003"); e == nil || e.Withdrawn.IsZero() {
		t.Errorf("Entry of a withdrawn entry = %v, want it (withdrawn)", e)
	}
	if e := d.Entry("GO-1999-0000"); e != nil {
		t.Errorf("Entry of an unknown id = %v", e)
	}
	if d.Len() != 7 {
		t.Errorf("Len = %d, want 7", d.Len())
	}
	// The same pointer every time: decoded once.
	if a, b := d.Lookup("Go", "stdlib")[0], d.Entry("GO-2024-0004"); a != b {
		t.Error("Lookup and Entry return different copies of one entry")
	}
}

func TestOpenDirForms(t *testing.T) {
	entries := fixture(t)
	files := dbtest.Files(t, entries...)
	dir := t.TempDir()

	plain := filepath.Join(dir, "plain")
	dbtest.WriteFiles(t, plain, map[string][]byte{
		"go/GO-2024-0001.json":     files["GO-2024-0001.json"],
		"go/sub/GO-2024-0002.json": files["GO-2024-0002.json"],
		"README.md":                []byte("not OSV, ignored"),
	})
	zipped := filepath.Join(dir, "all.zip")
	dbtest.WriteZip(t, zipped, map[string][]byte{"GO-2024-0001.json": files["GO-2024-0001.json"], "GO-2024-0002.json": files["GO-2024-0002.json"]})
	single := filepath.Join(dir, "one.json")
	dbtest.WriteFiles(t, dir, map[string][]byte{"one.json": files["GO-2024-0001.json"]})
	array := filepath.Join(dir, "array.json")
	dbtest.WriteFiles(t, dir, map[string][]byte{"array.json": []byte("[" + string(files["GO-2024-0001.json"]) + "," + string(files["GO-2024-0002.json"]) + "]")})

	for _, tc := range []struct {
		path, name string
		want       []string
	}{
		{plain, "dir:" + plain, []string{"GO-2024-0001", "GO-2024-0002"}},
		{zipped, "zip:" + zipped, []string{"GO-2024-0001", "GO-2024-0002"}},
		{single, "file:" + single, []string{"GO-2024-0001"}},
		{array, "file:" + array, []string{"GO-2024-0001", "GO-2024-0002"}},
	} {
		d, err := db.OpenDir(tc.path)
		if err != nil {
			t.Errorf("OpenDir(%s): %v", tc.path, err)
			continue
		}
		if diff := cmp.Diff(tc.want, d.IDs()); diff != "" {
			t.Errorf("OpenDir(%s) IDs (-want +got):\n%s", tc.path, diff)
		}
		s := d.Sources()
		if len(s) != 1 || s[0].Name != tc.name || !s[0].Date.Equal(dbtest.Date) || s[0].Entries != len(tc.want) {
			t.Errorf("OpenDir(%s) sources = %+v", tc.path, s)
		}
		if w := d.Warnings(); len(w) > 0 {
			t.Errorf("OpenDir(%s) warnings: %q", tc.path, w)
		}
	}
}

func TestOpenDirBadInput(t *testing.T) {
	good := dbtest.Files(t, fixture(t)[:2]...)
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		// warnings are substrings, one per expected warning.
		warnings []string
		entries  int
	}{{
		name: "malformed JSON names the file",
		files: map[string][]byte{
			"GO-2024-0002.json": good["GO-2024-0002.json"],
			"bad.json":          []byte(`{"id": "GO-2024-0009", "affected": [`),
		},
		warnings: []string{"bad.json: skipped: malformed OSV entry: unexpected end of JSON input"},
		entries:  1,
	}, {
		name: "invalid entries",
		files: map[string][]byte{
			"GO-2024-0002.json": good["GO-2024-0002.json"],
			"noid.json":         []byte(`{"affected": []}`),
			"noeco.json":        []byte(`{"id": "X-1", "affected": [{"package": {"name": "a"}}]}`),
			"badrange.json":     []byte(`{"id": "X-2", "affected": [{"package": {"ecosystem": "Go", "name": "a"}, "ranges": [{"type": "SEMVER"}]}]}`),
			"badtype.json":      []byte(`{"id": "X-3", "affected": [{"package": {"ecosystem": "Go", "name": "a"}, "ranges": [{"type": "FOO", "events": [{"introduced": "0"}]}]}]}`),
			"badid.json":        []byte(`{"id": "../../etc/passwd", "affected": []}`),
			"wrongtype.json":    []byte(`{"id": 7}`),
		},
		warnings: []string{
			"badid.json: skipped: unusable id",
			"badrange.json: skipped: invalid OSV entry: X-2: affected[0].ranges[0]: no events",
			"badtype.json: skipped: invalid OSV entry: X-3: affected[0].ranges[0]: unknown type \"FOO\"",
			"noeco.json: skipped: invalid OSV entry: X-1: affected[0]: no package ecosystem or name",
			"noid.json: skipped: invalid OSV entry: no id",
			"wrongtype.json: skipped: malformed OSV entry",
		},
		entries: 1,
	}, {
		// A directory being written: a truncated file, an empty one, and
		// the temporary names of atomic writers and downloaders.
		name: "directory being written",
		files: map[string][]byte{
			"GO-2024-0002.json":          good["GO-2024-0002.json"],
			"GO-2024-0001.json":          good["GO-2024-0001.json"][:40],
			"GO-2024-0005.json":          nil,
			".GO-2024-0006.json.tmp-123": good["GO-2024-0001.json"],
			"GO-2024-0007.json.part":     good["GO-2024-0001.json"],
		},
		warnings: []string{
			".GO-2024-0006.json.tmp-123: skipped: looks like a file still being written",
			"GO-2024-0001.json: skipped: malformed OSV entry: unexpected end of JSON input",
			"GO-2024-0005.json: skipped: empty file",
			"GO-2024-0007.json.part: skipped: looks like a file still being written",
		},
		entries: 1,
	}, {
		name: "duplicate ids",
		files: map[string][]byte{
			"a/GO-2024-0002.json": good["GO-2024-0002.json"],
			"b/GO-2024-0002.json": good["GO-2024-0002.json"],
		},
		warnings: []string{"b/GO-2024-0002.json: duplicate id GO-2024-0002 (also in"},
		entries:  1,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			dbtest.WriteFiles(t, dir, tc.files)
			d, err := db.OpenDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if d.Len() != tc.entries {
				t.Errorf("Len = %d, want %d", d.Len(), tc.entries)
			}
			w := d.Warnings()
			if len(w) != len(tc.warnings) {
				t.Fatalf("warnings = %q, want %d", w, len(tc.warnings))
			}
			slices.Sort(w)
			for i, want := range tc.warnings {
				if !strings.HasPrefix(w[i], dir+string(filepath.Separator)) || !strings.Contains(w[i], want) {
					t.Errorf("warning %d = %q, want the path and %q", i, w[i], want)
				}
			}
		})
	}
}

func TestOpenDirErrors(t *testing.T) {
	dir := t.TempDir()
	good := dbtest.Files(t, fixture(t)[0])

	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	onlyBad := filepath.Join(dir, "onlybad")
	dbtest.WriteFiles(t, onlyBad, map[string][]byte{"x.json": []byte("{")})
	traversal := filepath.Join(dir, "evil.zip")
	dbtest.WriteZip(t, traversal, map[string][]byte{"GO-2024-0002.json": good["GO-2024-0002.json"], "../../evil.json": good["GO-2024-0002.json"]})
	absolute := filepath.Join(dir, "abs.zip")
	dbtest.WriteZip(t, absolute, map[string][]byte{"/etc/evil.json": good["GO-2024-0002.json"]})
	backslash := filepath.Join(dir, "bs.zip")
	dbtest.WriteZip(t, backslash, map[string][]byte{`..\evil.json`: good["GO-2024-0002.json"]})
	truncated := filepath.Join(dir, "truncated.zip")
	dbtest.WriteZip(t, truncated, map[string][]byte{"GO-2024-0002.json": good["GO-2024-0002.json"]})
	b, _ := os.ReadFile(truncated)
	os.WriteFile(truncated, b[:len(b)-30], 0o644)
	notOSV := filepath.Join(dir, "notes.txt")
	os.WriteFile(notOSV, []byte("hello"), 0o644)

	for _, tc := range []struct {
		path string
		want string
		is   error
	}{
		{filepath.Join(dir, "missing"), "no such file", nil},
		{empty, empty + ": no OSV entries", nil},
		{onlyBad, "no OSV entries (1 files skipped; the first: " + onlyBad, nil},
		{traversal, traversal + `: member "../../evil.json"`, osvpack.ErrInsecurePath},
		{absolute, absolute + `: member "/etc/evil.json"`, osvpack.ErrInsecurePath},
		{backslash, backslash + `: member "..\\evil.json"`, osvpack.ErrInsecurePath},
		{truncated, truncated + ": zip: not a valid zip file", nil},
		{notOSV, notOSV + ": skipped: malformed OSV entry", nil},
	} {
		_, err := db.OpenDir(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("OpenDir(%s) = %v, want an error containing %q", tc.path, err, tc.want)
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("OpenDir(%s) = %v, want errors.Is %v", tc.path, err, tc.is)
		}
	}
}

func TestUnknownEcosystemKeptAndReported(t *testing.T) {
	d := dbtest.Open(t, fixture(t)...)
	st := d.Status(dbtest.Date.Add(3 * 24 * time.Hour))
	want := map[string]int{"Go": 4, "Debian:12": 1, "Alpine:v3.20": 1, "npm": 1}
	if diff := cmp.Diff(want, st.Ecosystems); diff != "" {
		t.Errorf("ecosystems (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"npm"}, st.Unmatched); diff != "" {
		t.Errorf("unmatched (-want +got):\n%s", diff)
	}
	if len(d.Lookup("npm", "left-pad")) != 1 {
		t.Error("entry of an unmatched ecosystem was not kept")
	}
	if st.AgeDays != 3 || st.Stale {
		t.Errorf("age %d stale %v, want 3 and fresh", st.AgeDays, st.Stale)
	}
	if st := d.Status(dbtest.Date.Add(8 * 24 * time.Hour)); !st.Stale || st.AgeDays != 8 {
		t.Errorf("after 8 days: age %d stale %v, want 8 and stale", st.AgeDays, st.Stale)
	}
}

func TestMatched(t *testing.T) {
	for eco, want := range map[string]bool{
		"Go": true, "Debian:12": true, "Alpine:v3.20": true,
		"Debian": false, "Alpine": false, "Debian:": false, "npm": false, "go": false, "PyPI": false,
	} {
		if got := db.Matched(eco); got != want {
			t.Errorf("Matched(%q) = %v, want %v", eco, got, want)
		}
	}
}

// TestConcurrentLookup: entries are decoded once, whoever asks first; run
// with -race.
func TestConcurrentLookup(t *testing.T) {
	d := openEmbedded(t)
	want := len(d.IDs())
	done := make(chan []*osv.Entry)
	for range 8 {
		go func() {
			var got []*osv.Entry
			for _, id := range d.IDs()[:200] {
				got = append(got, d.Entry(id))
			}
			got = append(got, d.Lookup(osv.EcosystemGo, "stdlib")...)
			done <- got
		}()
	}
	first := <-done
	for range 7 {
		got := <-done
		for i := range got {
			if got[i] != first[i] || got[i] == nil {
				t.Fatalf("entry %d decoded twice or not at all", i)
			}
		}
	}
	if want != snapshotEntries {
		t.Errorf("%d entries", want)
	}
}
