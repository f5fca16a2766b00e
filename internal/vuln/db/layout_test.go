package db_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/redline-go/redline/internal/vuln/db"
	"github.com/redline-go/redline/internal/vuln/db/dbtest"
	"github.com/redline-go/redline/internal/vuln/osv"
)

// The shapes golang.org/x/vuln's client reads (internal/client/schema.go).
type (
	dbMeta struct {
		Modified time.Time `json:"modified"`
	}
	moduleMeta struct {
		Path  string       `json:"path"`
		Vulns []moduleVuln `json:"vulns"`
	}
	moduleVuln struct {
		ID       string    `json:"id"`
		Modified time.Time `json:"modified"`
		Fixed    string    `json:"fixed,omitempty"`
	}
	vulnMeta struct {
		ID       string    `json:"id"`
		Modified time.Time `json:"modified"`
		Aliases  []string  `json:"aliases,omitempty"`
	}
)

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(mustRead(t, path)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestWriteVulnDBLayout(t *testing.T) {
	entries := fixture(t)
	// Re-introduced after its last fix: no "fixed" in the index.
	reintro := dbtest.Entry("GO-2024-0005", dbtest.Affected("Go", "example.com/c", "SEMVER", "0", "1.1.0", "1.3.0"))
	reintro.Aliases = []string{"CVE-2024-0005", "GHSA-aaaa-bbbb-cccc"}
	entries = append(entries, reintro)
	d := dbtest.Open(t, entries...)

	dir := filepath.Join(t.TempDir(), "layout")
	dbtest.WriteFiles(t, dir, map[string][]byte{"stale.json": []byte("{}")})
	if err := d.WriteVulnDBLayout(dir); err != nil {
		t.Fatal(err)
	}
	var meta dbMeta
	readJSON(t, filepath.Join(dir, "index/db.json"), &meta)
	if !meta.Modified.Equal(dbtest.Date) {
		t.Errorf("db.json modified = %v, want %v", meta.Modified, dbtest.Date)
	}
	var mods []moduleMeta
	readJSON(t, filepath.Join(dir, "index/modules.json"), &mods)
	m := dbtest.Date
	wantMods := []moduleMeta{
		{Path: "example.com/a", Vulns: []moduleVuln{{"GO-2024-0001", m, "1.0.5"}, {"GO-2024-0002", m, "1.1.0"}, {"GO-2024-0003", m, "1.2.0"}}},
		{Path: "example.com/b", Vulns: []moduleVuln{{"GO-2024-0001", m, "2.0.0"}}},
		{Path: "example.com/c", Vulns: []moduleVuln{{"GO-2024-0005", m, ""}}},
		{Path: "stdlib", Vulns: []moduleVuln{{"GO-2024-0004", m, "1.26.9"}}},
	}
	if diff := cmp.Diff(wantMods, mods); diff != "" {
		t.Errorf("modules.json (-want +got):\n%s", diff)
	}
	var vulns []vulnMeta
	readJSON(t, filepath.Join(dir, "index/vulns.json"), &vulns)
	wantVulns := []vulnMeta{{"GO-2024-0001", m, nil}, {"GO-2024-0002", m, nil}, {"GO-2024-0003", m, nil}, {"GO-2024-0004", m, nil}, {"GO-2024-0005", m, reintro.Aliases}}
	if diff := cmp.Diff(wantVulns, vulns); diff != "" {
		t.Errorf("vulns.json (-want +got):\n%s", diff)
	}
	// Go entries only, withdrawn included (x/vuln skips those itself); the
	// old content is gone.
	des, err := os.ReadDir(filepath.Join(dir, "ID"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, de := range des {
		got = append(got, de.Name())
	}
	if diff := cmp.Diff([]string{"GO-2024-0001.json", "GO-2024-0002.json", "GO-2024-0003.json", "GO-2024-0004.json", "GO-2024-0005.json"}, got); diff != "" {
		t.Errorf("ID/ (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(dir, "stale.json")); !os.IsNotExist(err) {
		t.Error("the old directory's content survived")
	}
	var e osv.Entry
	readJSON(t, filepath.Join(dir, "ID", "GO-2024-0005.json"), &e)
	if diff := cmp.Diff(reintro, e); diff != "" {
		t.Errorf("ID/GO-2024-0005.json (-want +got):\n%s", diff)
	}
	// Nothing but the layout is left beside it.
	if des, _ := os.ReadDir(filepath.Dir(dir)); len(des) != 1 {
		t.Errorf("%d files beside the layout, want none", len(des)-1)
	}

	// The layout reads back: same Go entries, the layout's date.
	back, err := db.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"GO-2024-0001", "GO-2024-0002", "GO-2024-0003", "GO-2024-0004", "GO-2024-0005"}, back.IDs()); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
	if len(back.Warnings()) != 0 || !back.Date().Equal(dbtest.Date) {
		t.Errorf("read back: warnings %q, date %v", back.Warnings(), back.Date())
	}
}

// TestWriteVulnDBLayoutEmbedded writes the embedded snapshot: its date is
// the pseudo-version's (the entries have none), every entry is there, and
// go1.26.8's advisories are indexed under stdlib.
func TestWriteVulnDBLayoutEmbedded(t *testing.T) {
	d := openEmbedded(t)
	dir := filepath.Join(t.TempDir(), "vulndb")
	if err := d.WriteVulnDBLayout(dir); err != nil {
		t.Fatal(err)
	}
	var meta dbMeta
	readJSON(t, filepath.Join(dir, "index/db.json"), &meta)
	if !meta.Modified.Equal(snapshotDate) {
		t.Errorf("db.json modified = %v, want %v", meta.Modified, snapshotDate)
	}
	des, _ := os.ReadDir(filepath.Join(dir, "ID"))
	if len(des) != snapshotEntries {
		t.Errorf("%d entries written, want %d", len(des), snapshotEntries)
	}
	var mods []moduleMeta
	readJSON(t, filepath.Join(dir, "index/modules.json"), &mods)
	found := false
	for _, m := range mods {
		for _, v := range m.Vulns {
			if m.Path == "stdlib" && v.ID == "GO-2026-6809" {
				found = true
				t.Logf("stdlib GO-2026-6809 fixed %s", v.Fixed)
			}
		}
	}
	if !found {
		t.Error("stdlib's GO-2026-6809 is not in modules.json")
	}
	// The fingerprint names the data: same data, same fingerprint.
	if d.Fingerprint() != openEmbedded(t).Fingerprint() || d.Fingerprint() == dbtest.Open(t, fixture(t)...).Fingerprint() {
		t.Error("fingerprint does not follow the data")
	}
}
