package osvpack

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func sampleRecords() []Record {
	return []Record{
		{ID: "GO-2024-0002", Packages: []Pkg{{"Go", "example.com/a"}}, JSON: []byte(`{"id":"GO-2024-0002"}`)},
		{ID: "DEBIAN-CVE-2024-1", Withdrawn: true, Packages: []Pkg{{"Debian:12", "openssl"}, {"Debian:11", "openssl"}}, JSON: []byte(`{"id":"DEBIAN-CVE-2024-1"}`)},
		{ID: "X-1", JSON: []byte(`{"id":"X-1"}`)},
	}
}

func TestBodyRoundTrip(t *testing.T) {
	recs := sampleRecords()
	for _, level := range []Level{Fast, Best} {
		body, err := Decompress(Compress(EncodeBody(recs), level))
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeBody(body)
		if err != nil {
			t.Fatal(err)
		}
		want := []Record{recs[1], recs[0], recs[2]} // sorted by ID
		want[2].Packages = []Pkg{}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
	// Deterministic: the embedded snapshot's guard test relies on it.
	if !bytes.Equal(Compress(EncodeBody(recs), Best), Compress(EncodeBody(recs), Best)) {
		t.Error("Compress is not deterministic")
	}
}

// TestDecodeBodyTruncated: every truncation of a body is an error, never a
// panic or a shorter database.
func TestDecodeBodyTruncated(t *testing.T) {
	body := EncodeBody(sampleRecords())
	for n := range len(body) {
		if _, err := DecodeBody(body[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("DecodeBody of %d/%d bytes: %v, want ErrCorrupt", n, len(body), err)
		}
	}
	if _, err := DecodeBody(append(body, 0)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("trailing byte: %v", err)
	}
}

func FuzzDecodeBody(f *testing.F) {
	f.Add(EncodeBody(sampleRecords()))
	f.Add([]byte(bodyMagic + "\xff\xff\xff\xff\x0f"))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := DecodeBody(b)
		if err != nil {
			return
		}
		// What decodes re-encodes to the same records.
		again, err := DecodeBody(EncodeBody(recs))
		if err != nil || len(again) != len(recs) {
			t.Fatalf("re-encoding: %v", err)
		}
	})
}

func FuzzSetAdd(f *testing.F) {
	f.Add([]byte(`{"id":"GO-1","affected":[{"package":{"ecosystem":"Go","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}`))
	f.Add([]byte(`[{"id":"A-1","affected":[]},{"id":"A-1"}]`))
	f.Add([]byte(`{"id":"../x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := &Set{}
		s.Add("f.json", b)
		for _, r := range s.Records() {
			if CheckID(r.ID) != nil || len(r.JSON) == 0 {
				t.Fatalf("accepted record %+v", r)
			}
		}
		if len(s.Records())+len(s.Warnings) == 0 {
			t.Fatal("input neither accepted nor warned about")
		}
	})
}

func TestPackFile(t *testing.T) {
	dir := t.TempDir()
	recs := sampleRecords()
	m := NewMeta("import:x", "", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), recs)
	if diff := cmp.Diff(map[string]int{"Go": 1, "Debian:12": 1, "Debian:11": 1}, m.Ecosystems); diff != "" {
		t.Errorf("ecosystems (-want +got):\n%s", diff)
	}
	var buf bytes.Buffer
	if err := WritePack(&buf, m, Compress(EncodeBody(recs), Fast)); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "x.osvpack")
	os.WriteFile(p, buf.Bytes(), 0o644)
	gotMeta, gotRecs, err := ReadPack(p)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m, gotMeta); diff != "" {
		t.Errorf("meta (-want +got):\n%s", diff)
	}
	if len(gotRecs) != 3 {
		t.Errorf("%d records", len(gotRecs))
	}
	if onlyMeta, err := ReadPackMeta(p); err != nil || !cmp.Equal(m, onlyMeta) {
		t.Errorf("ReadPackMeta = %+v, %v", onlyMeta, err)
	}
	// Every truncation fails, naming the file.
	full := buf.Bytes()
	for _, n := range []int{0, 5, len(packMagic), len(packMagic) + 10, len(full) - 1} {
		os.WriteFile(p, full[:n], 0o644)
		if _, _, err := ReadPack(p); err == nil || !errors.Is(err, ErrCorrupt) || !bytes.Contains([]byte(err.Error()), []byte(p)) {
			t.Errorf("ReadPack of %d bytes: %v", n, err)
		}
	}
	// A meta that lies about the count.
	m.Entries = 4
	buf.Reset()
	WritePack(&buf, m, Compress(EncodeBody(recs), Fast))
	os.WriteFile(p, buf.Bytes(), 0o644)
	if _, _, err := ReadPack(p); !errors.Is(err, ErrCorrupt) {
		t.Errorf("count mismatch: %v", err)
	}
}

func TestSecureName(t *testing.T) {
	for name, want := range map[string]bool{
		"GO-1.json": true, "a/b/GO-1.json": true, "ID/": true,
		"": false, "../x.json": false, "a/../../x.json": false, "a/../x.json": false,
		"/etc/x.json": false, `a\x.json`: false, `C:\x.json`: false,
	} {
		if got := secureName(name); got != want {
			t.Errorf("secureName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestCheckID(t *testing.T) {
	for _, ok := range []string{"GO-2024-1234", "DEBIAN-CVE-2024-1", "GHSA-xxxx-yyyy-zzzz", "openSUSE-SU-2024:0001-1", "PYSEC-2021.1+x"} {
		if err := CheckID(ok); err != nil {
			t.Errorf("CheckID(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"../x", "a/b", ".hidden", "a b", "x\x00"} {
		if err := CheckID(bad); err == nil {
			t.Errorf("CheckID(%q) accepted", bad)
		}
	}
}

func TestVersionTime(t *testing.T) {
	if got := VersionTime("v0.0.0-20261105234957-e22db6528018"); !got.Equal(time.Date(2026, 11, 5, 23, 49, 57, 0, time.UTC)) {
		t.Errorf("VersionTime = %v", got)
	}
	if got := VersionTime("v1.2.3"); !got.IsZero() {
		t.Errorf("VersionTime of a release = %v", got)
	}
}

func TestPartial(t *testing.T) {
	for name, want := range map[string]bool{
		"GO-1.json": false, "dir/GO-1.json": false, "README~": false, "notes.tmp": false,
		".GO-1.json.tmp-123": true, "GO-1.json.part": true, "GO-1.json.crdownload": true,
		"GO-1.json~": true, "dir/.GO-1.json": true, "GO-1.json.tmp": true,
	} {
		if got := partial(name); got != want {
			t.Errorf("partial(%q) = %v, want %v", name, got, want)
		}
	}
	// In a zip too.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("GO-1.json.part")
	w.Write([]byte("{"))
	zw.Close()
	s := &Set{}
	if err := s.AddZip("x.zip", bytes.NewReader(buf.Bytes()), int64(buf.Len()), AllJSON); err != nil {
		t.Fatal(err)
	}
	if len(s.Warnings) != 1 || s.Warnings[0] != "x.zip: GO-1.json.part: skipped: looks like a file still being written" {
		t.Errorf("warnings = %q", s.Warnings)
	}
}
